import ArgumentParser
import BuiltinNodes
import Foundation
import NodeKit
import Runtime

/// `sluice run FILE`: runs a pipeline standalone, with live progress, and exits with its status.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file.",
        discussion: "Exit status: 0 succeeded, 1 the run failed, 2 the pipeline or the command line is invalid, 130 interrupted (Ctrl-C).")

    @OptionGroup var pipeline: PipelineOptions

    @Flag(help: "Print one JSON object per run event instead of progress.")
    var json = false

    @Option(help: ArgumentHelp("Where rejected records are kept (JSON lines). Default: .sluice/runs/RUN_ID/rejects.jsonl", valueName: "file"))
    var rejects: String?

    @Flag(help: "After the run, print each node output's first rows (the pipeline's sampleRows, default 20) and row count.")
    var samples = false

    @Option(name: .customLong("break"), help: ArgumentHelp(
        "Debug run: pause before NODE takes a batch (or when a batch crosses FROM.PORT->TO.PORT), only for a batch holding a row where CONDITION holds when given; then step, continue or quit at the terminal. Repeatable.",
        valueName: "NODE[:CONDITION]"))
    var breakpoints: [String] = []

    @Flag(help: "With --break: commit the sinks' output when the debug run finishes (a debug run commits nothing unless asked).")
    var commit = false

    func run() async throws {
        let output = Output(json: json)
        let plan = try await pipeline.plan(forRun: true, output: output)
        let runID = RunOptions.newID()
        let rejectPath = rejects ?? ".sluice/runs/\(runID)/rejects.jsonl"
        let debugging = !breakpoints.isEmpty
        // A debug run prints its pauses and questions: no progress line redrawn under them.
        let events: any RunEventSink = json ? JSONEventPrinter() : HumanEventPrinter(live: Terminal.isInteractive && !debugging)
        var options = RunOptions(runID: runID, events: events, rejects: JSONLinesRejectStore(path: rejectPath))
        var controller: TerminalDebugger?
        if debugging {
            var parsed: [Breakpoint] = []
            for text in breakpoints {
                guard let breakpoint = Breakpoint(text) else {
                    output.problems([ConfigError(code: "invalid_breakpoint", message: "--break \(text): write \(Breakpoint.forms)", field: "break")])
                    throw ExitStatus.invalid
                }
                parsed.append(breakpoint)
            }
            let (pauses, pausing) = AsyncStream<DebugPause?>.makeStream()
            do {
                let debugger = try RunDebugger(breakpoints: parsed, plan: plan) { pausing.yield($0) }
                options.debugger = debugger
                options.commitsOutputs = commit
                controller = TerminalDebugger(pauses: pauses, debugger: debugger, stopRun: { kill(getpid(), SIGINT) })
            } catch {
                output.problems(error.errors)
                throw ExitStatus.invalid
            }
            if !commit && !json { Terminal.line("debug run: sinks commit nothing (add --commit to keep their output)") }
        }
        let runOptions = options
        let driving = controller.map { controller in Task { await controller.drive() } }
        let result = await Interruptible.run { await RunExecutor().run(plan, options: runOptions) }
        driving?.cancel()
        if samples { printSamples(result.samples) }
        if !plan.document.notify.isEmpty {
            let summary = result.summary
            let message = RunMessage(plan: plan, summary: summary, runID: runID, status: summary.status.rawValue, link: nil)
            let catalog = try pipeline.connectionCatalog()
            let lines = await RunNotifier(connectors: BuiltinNodes.connectors).deliver(message, for: plan.document.notify, succeeded: summary.status == .succeeded) { name in
                guard let connection = catalog.connections[name] else { throw NodeError(code: "unknown_connection", message: "no connection named '\(name)'") }
                return connection
            }
            for line in lines { if line.level == .error { Terminal.error(line.message) } else if !json { Terminal.line(line.message) } }
        }
        switch result.summary.status {
        case .succeeded: return
        case .failed: throw ExitStatus.failed
        case .cancelled: throw ExitStatus.interrupted
        }
    }

    private func printSamples(_ samples: [EdgeSample]) {
        for sample in samples {
            if json {
                print(#"{"sample":{"node":"# + JSONText.quoted(sample.node) + #","port":"# + JSONText.quoted(sample.port) + #","rowsSeen":\#(sample.rowsSeen),"data":\#(sample.json)}}"#)
                continue
            }
            print("\n\(sample.node).\(sample.port): \(sample.rowsSeen) row\(sample.rowsSeen == 1 ? "" : "s")\(sample.rows.count < sample.rowsSeen ? ", first \(sample.rows.count) shown" : "")")
            guard !sample.rows.isEmpty else { continue }
            // Where each row came from, when known, first.
            let traced = sample.origins.contains { $0 != nil }
            let header = (traced ? ["from\n"] : []) + sample.schema.fields.map { "\($0.name)\n\($0.type)" }
            let rows = sample.rows.enumerated().map { i, row in
                (traced ? [(i < sample.origins.count ? sample.origins[i] : nil) ?? ""] : []) + row.map { $0.isNull ? "NULL" : $0.description }
            }
            print(Table.render(header: header, rows: rows))
        }
    }
}

/// The write end of the self-pipe the signal handler writes to (set before the handler is installed).
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1

/// Runs work in a child task that SIGINT and SIGTERM cancel, so a run can abort cleanly.
///
/// A real signal handler (whichever thread the kernel picks) writes a byte to a pipe; a watcher thread
/// blocked on the pipe cancels the task. Nothing can swallow the signal, and busy node tasks cannot
/// delay the cancellation.
enum Interruptible {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) async -> T {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return await work() }
        interruptPipeWrite = fds[1]
        let handler: @convention(c) (Int32) -> Void = { _ in
            var byte: UInt8 = 1
            _ = write(interruptPipeWrite, &byte, 1)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // Awaited below, so not orphaned; detached so cancelling it does not cancel the caller.
        let task = Task.detached { await work() }
        let readEnd = fds[0]
        let watcher = Thread {
            var byte: UInt8 = 0
            if read(readEnd, &byte, 1) == 1, byte == 1 { task.cancel() }
        }
        watcher.start()
        let value = await task.value
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        var done: UInt8 = 0
        _ = write(fds[1], &done, 1) // wakes the watcher, which then exits
        return value
    }
}
