import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

@Suite struct RunExecutorTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness
    let key = UUID().uuidString

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(registry: testRegistry, directory: dir)
    }

    func pipeline(_ nodes: String, _ edges: String, settings: String = "{}") -> String {
        "apiVersion: sluice/v1\nname: t\nsettings: \(settings)\nnodes:\n\(nodes)\nedges:\n\(edges)\n"
    }

    @Test func fanOutDeliversEveryBatchToEveryConsumer() async throws {
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {key: \(key), batches: 5, rows: 100}}
          - {id: left, type: test.sink, settings: {key: \(key), label: left}}
          - {id: right, type: test.sink, settings: {key: \(key), label: right}}
        """, "  - {from: gen.out, to: left.in}\n  - {from: gen.out, to: right.in}"))
        #expect(run.summary.status == .succeeded)
        #expect(Probe.value(key, "left_rows") == 500 && Probe.value(key, "right_rows") == 500)
        #expect(run.summary.counts("gen")?.recordsOut == 500)
    }

    @Test func fanInMergesStreams() async throws {
        let run = try await harness.run(pipeline("""
          - {id: a, type: test.generate, settings: {batches: 2, rows: 7}}
          - {id: b, type: test.generate, settings: {batches: 3, rows: 5}}
          - {id: all, type: union}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: a.out, to: all.in}\n  - {from: b.out, to: all.in}\n  - {from: all.out, to: out.in}"))
        #expect(run.summary.status == .succeeded)
        #expect(Probe.value(key, "sink_rows") == 29)
    }

    @Test func signalEdgesStartAfterTheUpstreamCommitted() async throws {
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {key: \(key)}}
          - {id: load, type: test.sink, settings: {key: \(key), label: load}}
          - {id: gen2, type: test.generate}
          - {id: notify, type: test.sink, settings: {key: \(key), label: notify}}
        """, """
          - {from: gen.out, to: load.in}
          - {from: gen2.out, to: notify.in}
          - {from: load.done, to: gen2.start, kind: signal}
        """))
        #expect(run.summary.status == .succeeded)
        let notes = Probe.notes(key)
        let committed = try #require(notes.firstIndex(of: "load committed"))
        let started = try #require(notes.firstIndex(of: "notify started"))
        #expect(committed < started, "\(notes)")
    }

    @Test func aFailureCancelsSiblingsAndAbortsSinks() async throws {
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {key: \(key), batches: 50, rows: 10}}
          - {id: ok, type: test.sink, settings: {key: \(key), label: ok}}
          - {id: broken, type: test.fail, settings: {after: 2}}
          - {id: doomed, type: test.sink, settings: {key: \(key), label: doomed}}
        """, "  - {from: gen.out, to: ok.in}\n  - {from: gen.out, to: broken.in}\n  - {from: broken.out, to: doomed.in}"))
        #expect(run.summary.status == .failed)
        #expect(run.summary.error?.contains("node 'broken'") == true)
        #expect(run.summary.outcome("broken") == .failed)
        let notes = Probe.notes(key)
        #expect(!notes.contains("ok committed") && !notes.contains("doomed committed"), "\(notes)")
    }

    @Test func retryableFailuresAreRetriedWithBackoff() async throws {
        let clock = InstantClock()
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {key: \(key), failures: 2}, retry: {attempts: 3, backoff: 1s}}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: gen.out, to: out.in}"), clock: clock)
        #expect(run.summary.status == .succeeded)
        #expect(Probe.value(key, "attempts") == 3)
        #expect(clock.slept.filter { $0 >= .seconds(1) }.prefix(2) == [.seconds(1), .seconds(2)])
        #expect(Probe.value(key, "sink_rows") == 30)
    }

    @Test func retriesRunOutAndTheRunFails() async throws {
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {key: \(key), failures: 5}, retry: {attempts: 2, backoff: 1s}}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: gen.out, to: out.in}"), clock: InstantClock())
        #expect(run.summary.status == .failed)
        #expect(Probe.value(key, "attempts") == 2)
    }

    @Test func aNodeThatTakesTooLongTimesOut() async throws {
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {hang: true}, timeout: 50ms}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: gen.out, to: out.in}"))
        #expect(run.summary.status == .failed)
        #expect(run.summary.error?.contains("did not finish within") == true)
        #expect(Probe.notes(key).contains("sink aborted") || !Probe.notes(key).contains("sink committed"))
    }

    @Test func cancellingTheRunAbortsSinks() async throws {
        let plan = try await harness.plan(pipeline("""
          - {id: gen, type: test.generate, settings: {hang: true}}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: gen.out, to: out.in}"))
        let harness = self.harness
        let task = Task { await harness.run(plan) }
        task.cancel()
        let run = await task.value
        #expect(run.summary.status == .cancelled)
        #expect(!Probe.notes(key).contains("sink committed"))
    }

    @Test func memoryIsBoundedByChannelCapacity() async throws {
        // 400 batches through a one-slot edge: never more than capacity + the two in the hands of the nodes.
        let run = try await harness.run(pipeline("""
          - {id: gen, type: test.generate, settings: {key: \(key), batches: 400, rows: 1}}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: gen.out, to: out.in}"), channelCapacity: 1)
        #expect(run.summary.status == .succeeded)
        #expect(Probe.value(key, "max_in_flight") <= 3, "in flight peaked at \(Probe.value(key, "max_in_flight"))")
        #expect(Probe.value(key, "sink_rows") == 400)
    }

    @Test func maxConcurrencyLimitsSources() async throws {
        let run = try await harness.run(pipeline("""
          - {id: a, type: test.generate, settings: {batches: 3}}
          - {id: b, type: test.generate, settings: {batches: 3}}
          - {id: all, type: union}
          - {id: out, type: test.sink, settings: {key: \(key)}}
        """, "  - {from: a.out, to: all.in}\n  - {from: b.out, to: all.in}\n  - {from: all.out, to: out.in}", settings: "{maxConcurrency: 1}"))
        #expect(run.summary.status == .succeeded)
        #expect(Probe.value(key, "sink_rows") == 60)
    }

    @Test func rejectsBeyondTheLimitFailTheRun() async throws {
        try dir.write("in.csv", "n\n1\n0\n2\n0\n0\n")
        let yaml = { (limit: Int) in
            self.pipeline("""
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: calc, type: compute, settings: {columns: {inv: "10 / n"}}}
              - {id: out, type: test.sink, settings: {key: \(self.key)}}
            """, "  - {from: src.out, to: calc.in}\n  - {from: calc.out, to: out.in}", settings: "{maxRejected: \(limit)}")
        }
        let within = try await harness.run(yaml(3))
        #expect(within.summary.status == .succeeded)
        #expect(within.summary.rejected == 3 && within.rejects.count == 3)
        #expect(within.rejects.allSatisfy { $0.record.code == "division_by_zero" && $0.node == "calc" })
        #expect(within.rejects.map { $0.record.row } == [1, 3, 4])
        let beyond = try await harness.run(yaml(2))
        #expect(beyond.summary.status == .failed)
        #expect(beyond.summary.error?.contains("maxRejected = 2") == true)
    }

    @Test func recordErrorsCanFailTheRunImmediately() async throws {
        try dir.write("in.csv", "n\n1\n0\n")
        let run = try await harness.run(pipeline("""
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: calc, type: compute, settings: {columns: {inv: "10 / n"}}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        """, "  - {from: src.out, to: calc.in}\n  - {from: calc.out, to: out.in}", settings: "{onRecordError: fail}"))
        #expect(run.summary.status == .failed)
        #expect(run.summary.error?.contains("division by zero") == true)
        #expect(!dir.exists("out.csv"))
        #expect(!dir.files().contains { $0.contains("sluice") && $0.hasSuffix(".tmp") }, "temporary file left: \(dir.files())")
    }
}
