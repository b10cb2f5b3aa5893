import Runtime
import Store
import Synchronization
import Testing
@testable import Workers

/// How a worker turns run events into stored counters, log lines and live updates, with an injected clock:
/// progress is published at most every 250 ms with records-per-second rates, a finished node at once, and a
/// drain returns only what changed since the last one.
@Suite struct RunProgressTests {
    final class RecordingBus: Sendable {
        let updates = Mutex<[RunUpdate]>([])
        func publish(_ update: RunUpdate) { updates.withLock { $0.append(update) } }
        var all: [RunUpdate] { updates.withLock { $0 } }
    }

    final class Clock: Sendable {
        let millis = Mutex<Int64>(1_000)
        func advance(_ delta: Int64) { millis.withLock { $0 += delta } }
        var now: Int64 { millis.withLock { $0 } }
    }

    @Test func progressIsThrottledRatesAreComputedAndFinishedNodesPublishAtOnce() {
        let bus = RecordingBus(), clock = Clock()
        let progress = RunProgress(runID: "r", pipelineID: "p", report: bus.publish, now: { clock.now })
        progress.send(.runStarted(runID: "r", traceID: "r", pipeline: "p", nodes: ["src", "out"]))
        progress.send(.nodeStarted(node: "src", attempt: 1))
        progress.send(.nodeProgress(node: "src", counts: NodeCounts(recordsOut: 100)))
        clock.advance(100)
        progress.send(.nodeProgress(node: "src", counts: NodeCounts(recordsOut: 200)))   // within 250 ms: not published
        clock.advance(400)
        progress.send(.nodeProgress(node: "src", counts: NodeCounts(recordsOut: 300)))
        let published = bus.all.filter { $0.kind == .progress }
        #expect(published.count == 2)
        // 200 more records in 500 ms since the first update.
        guard case let .progress(_, rates, _)? = published.last?.event else { Issue.record("no progress update"); return }
        #expect(rates["src"] == 400)
        #expect(published.last?.nodes?.map(\.node) == ["src", "out"])

        clock.advance(1)
        progress.send(.nodeFinished(node: "src", outcome: .succeeded, counts: NodeCounts(recordsOut: 300), duration: .milliseconds(1_501), error: nil))
        #expect(bus.all.filter { $0.kind == .progress }.count == 3)
        #expect(progress.nodes.first?.status == "succeeded" && progress.nodes.first?.durationMillis == 1_501)
    }

    @Test func retriesErrorsAndLogsBecomeNumberedLogLinesAndADrainTakesOnlyWhatChanged() {
        let bus = RecordingBus(), clock = Clock()
        let progress = RunProgress(runID: "r", pipelineID: "p", report: bus.publish, now: { clock.now })
        progress.send(.runStarted(runID: "r", traceID: "r", pipeline: "p", nodes: ["load"]))
        progress.send(.nodeRetrying(node: "load", attempt: 1, after: .seconds(2), error: "connection refused"))
        progress.send(.nodeStarted(node: "load", attempt: 2))
        progress.send(.nodeFinished(node: "load", outcome: .failed, counts: NodeCounts(), duration: .seconds(1), error: "disk full"))
        let first = progress.drain()
        #expect(first.nodes?.first?.status == "failed" && first.nodes?.first?.error == "disk full")
        #expect(first.logs.map(\.level) == [.warning, .info, .error])
        #expect(bus.all.compactMap { if case let .log(line) = $0.event { line.seq } else { nil } } == [Int64(1), 2, 3])
        let second = progress.drain()
        #expect(second.nodes == nil && second.logs.isEmpty)
    }
}
