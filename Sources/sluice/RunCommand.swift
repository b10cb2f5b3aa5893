import ArgumentParser
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

    func run() async throws {
        let output = Output(json: json)
        let plan = try pipeline.plan(output: output)
        let runID = RunOptions.newID()
        let rejectPath = rejects ?? ".sluice/runs/\(runID)/rejects.jsonl"
        let events: any RunEventSink = json ? JSONEventPrinter() : HumanEventPrinter(live: Terminal.isInteractive)
        let options = RunOptions(runID: runID, events: events, rejects: JSONLinesRejectStore(path: rejectPath))
        let result = await Interruptible.run { await RunExecutor().run(plan, options: options) }
        switch result.summary.status {
        case .succeeded: return
        case .failed: throw ExitStatus.failed
        case .cancelled: throw ExitStatus.interrupted
        }
    }
}

/// Runs work in a child task that SIGINT and SIGTERM cancel, so a run can abort cleanly.
enum Interruptible {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) async -> T {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let task = Task.detached { await work() }
        let sources = [SIGINT, SIGTERM].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        let value = await task.value
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        return value
    }
}
