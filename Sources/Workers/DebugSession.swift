import Foundation
import NodeKit
import Runtime
import Store

/// The worker's side of a debug run: binds the run's breakpoints, keeps each pause in the store and announces
/// it, and obeys the step, continue and stop commands its controller sends over the event bus (the service
/// checked who sent them).
struct DebugSession: Sendable {
    let run: RunRecord
    let queue: RunQueue
    private let pauses: AsyncStream<DebugPause?>
    private let pausing: AsyncStream<DebugPause?>.Continuation
    /// Subscribed before the run starts, so no command sent after the first pause is missed.
    private let updates: AsyncStream<RunUpdate>

    init(run: RunRecord, queue: RunQueue) {
        self.run = run
        self.queue = queue
        (pauses, pausing) = AsyncStream<DebugPause?>.makeStream()
        updates = queue.bus.subscribe()
    }

    func debugger(for settings: RunDebugSettings, plan: ExecutionPlan) throws -> RunDebugger {
        var breakpoints: [Breakpoint] = []
        for text in settings.breakpoints {
            guard let breakpoint = Breakpoint(text) else { throw ConfigErrors([ConfigError(code: "invalid_breakpoint", message: "breakpoint '\(text)' is none of \(Breakpoint.forms)")]) }
            breakpoints.append(breakpoint)
        }
        let pausing = pausing
        return try RunDebugger(breakpoints: breakpoints, plan: plan) { pausing.yield($0) }
    }

    /// Keeps each pause (or its end) in the store, then tells the run's watchers; in order, one at a time.
    func announcePauses() async {
        for await pause in pauses {
            try? await queue.store.setDebugPause(runID: run.id, pause?.json)
            let update = pause.map { RunDebugUpdate(state: .paused, sequence: $0.sequence, point: $0.point.description, reason: $0.reason) }
                ?? RunDebugUpdate(state: .running)
            queue.report(RunUpdate(runID: run.id, pipelineID: run.pipelineID, event: .debug(update), at: queue.store.now()))
        }
    }

    func obeyCommands(_ debugger: RunDebugger, runTask: Task<RunResult, Never>) async {
        for await update in updates {
            guard update.runID == run.id, case let .debug(debug) = update.event, debug.state == .command,
                  let command = debug.command.flatMap(DebugCommand.init(rawValue:)) else { continue }
            debugger.command(command)
            if command == .stop { runTask.cancel() }
        }
    }
}
