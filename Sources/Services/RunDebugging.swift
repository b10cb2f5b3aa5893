import Foundation
import NodeKit
public import Runtime
public import Store

/// How a run is to be debugged: breakpoints as written and whether its sinks commit when it finishes.
public struct DebugRequest: Sendable {
    public var breakpoints: [String]
    public var commitOnFinish: Bool

    /// At most this many breakpoints per run.
    public static let maxBreakpoints = 50

    public init(breakpoints: [String], commitOnFinish: Bool = false) {
        self.breakpoints = breakpoints
        self.commitOnFinish = commitOnFinish
    }

    /// Checked against the document: each breakpoint is well formed and names a node or data edge it has (its
    /// condition is bound when the worker plans the run, which fails the run with the binder's message).
    func settings(for document: PipelineDocument, controller: String) throws -> RunDebugSettings {
        guard breakpoints.count <= Self.maxBreakpoints else { throw ServiceError.invalid("at most \(Self.maxBreakpoints) breakpoints", field: "debug.breakpoints") }
        for text in breakpoints {
            guard text.utf8.count <= 2000, let breakpoint = Breakpoint(text) else {
                throw ServiceError.invalid("breakpoint '\(text.prefix(100))' is none of \(Breakpoint.forms)", field: "debug.breakpoints")
            }
            switch breakpoint.point {
            case let .node(id):
                guard document.nodes.contains(where: { $0.id == id }) else { throw ServiceError.invalid("breakpoint '\(text)': there is no node '\(id)'", field: "debug.breakpoints") }
            case let .edge(from, to):
                guard document.edges.contains(where: { $0.kind == .data && "\($0.from)" == from && "\($0.to)" == to }) else {
                    throw ServiceError.invalid("breakpoint '\(text)': there is no data edge \(from) → \(to)", field: "debug.breakpoints")
                }
            }
        }
        return RunDebugSettings(breakpoints: breakpoints, commitOnFinish: commitOnFinish, controller: controller)
    }
}

extension Runs {
    /// A debug run's settings (nil for an ordinary run) and where it is paused now (the pause as JSON, nil while
    /// it runs on or once it ended). Anyone who may see the run sees them.
    public func debugState(_ id: String, for caller: Caller) async throws -> (settings: RunDebugSettings?, pauseJSON: String?) {
        let run = try await get(id, for: caller)
        guard let settings = run.debug else { return (nil, nil) }
        return (settings, run.phase.isFinal ? nil : try await store.debugPause(runID: run.id))
    }

    /// Tells a debug run to step, continue or stop. Only its controller (who started it) may, and only while it
    /// runs; stop also cancels it (so it stops even when its worker missed the command).
    @discardableResult
    public func debug(_ id: String, by caller: Caller, command read: () throws -> DebugCommand) async throws -> RunRecord {
        let run = try await get(id, needs: .runner, for: caller)
        let command = try read()
        guard let settings = run.debug else { throw ServiceError(.conflict, "not_debug_run", "run '\(id)' is not a debug run") }
        guard settings.controller == caller.name else {
            throw ServiceError.forbidden("only \(settings.controller), who started this debug run, controls it")
        }
        guard !run.phase.isFinal else { throw ServiceError(.conflict, "run_finished", "the run has ended (\(run.phase.rawValue))") }
        if command == .stop {
            _ = try await context.queue.cancel(runID: run.id)
            try await context.audit(caller, "run_cancel", target: run.id)
        }
        context.queue.report(RunUpdate(runID: run.id, pipelineID: run.pipelineID,
                                       event: .debug(RunDebugUpdate(state: .command, command: command.rawValue, by: caller.name)), at: store.now()))
        return run
    }
}
