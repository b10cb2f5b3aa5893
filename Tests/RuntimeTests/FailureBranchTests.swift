import BuiltinNodes
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// `failed` signal edges: the branch after one runs only when its node failed, runs to its end (committing its
/// sinks) while the rest of the run is torn down, and the run still ends failed.
@Suite struct FailureBranchTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness
    let key = UUID().uuidString

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(registry: testRegistry, directory: dir)
    }

    /// gen → step (fails when `fails`) → load; alert branch: step.failed → alertSource.start → alert (a sink).
    func pipeline(fails: Bool, extraEdges: String = "") -> String {
        """
        apiVersion: sluice/v1
        name: branches
        nodes:
          - {id: gen, type: test.generate, settings: {key: \(key), batches: 20, rows: 10}}
          - {id: step, type: \(fails ? "test.fail" : "compute"), settings: \(fails ? "{after: 3}" : "{columns: {m: \"n * 2\"}}")}
          - {id: load, type: test.sink, settings: {key: \(key), label: load}}
          - {id: alertSource, type: test.generate, settings: {batches: 1, rows: 1}}
          - {id: alert, type: test.sink, settings: {key: \(key), label: alert}}
        edges:
          - {from: gen.out, to: step.in}
          - {from: step.out, to: load.in}
          - {from: step.failed, to: alertSource.start, kind: signal}
          - {from: alertSource.out, to: alert.in}
        \(extraEdges)
        """
    }

    @Test func aFailedNodeRunsItsFailureBranchAndTheRunStillFails() async throws {
        let run = try await harness.run(pipeline(fails: true))
        #expect(run.summary.status == .failed)
        #expect(run.summary.error?.contains("step") == true)
        #expect(run.summary.outcome("step") == .failed)
        #expect(run.summary.outcome("alertSource") == .succeeded && run.summary.outcome("alert") == .succeeded)
        let notes = Probe.notes(key)
        #expect(notes.contains("alert committed"), "the branch's sink commits although the run failed: \(notes)")
        #expect(!notes.contains("load committed"), "the failed part's sink does not: \(notes)")
        #expect(Probe.value(key, "alert_rows") == 1)
    }

    @Test func withoutAFailureTheBranchIsSkippedAndTheRunSucceeds() async throws {
        let run = try await harness.run(pipeline(fails: false))
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.summary.outcome("alertSource") == .skipped && run.summary.outcome("alert") == .skipped)
        #expect(Probe.value(key, "load_rows") == 200)
        #expect(Probe.value(key, "alert_rows") == 0)
    }

    @Test func aNodeWithBothKindsOfSignalsNeedsEveryOneToHold() async throws {
        // cleanup waits for gen to succeed and for step to fail: both hold when step fails after gen finished.
        let extra = """
          - {from: gen.done, to: cleanupSource.start, kind: signal}
          - {from: step.failed, to: cleanupSource.start, kind: signal}
          - {from: cleanupSource.out, to: cleanup.in}
        """
        let document = pipeline(fails: true, extraEdges: extra).replacingOccurrences(of: "edges:\n", with: """
          - {id: cleanupSource, type: test.generate, settings: {batches: 1, rows: 2}}
          - {id: cleanup, type: test.sink, settings: {key: \(key), label: cleanup}}
        edges:

        """)
        let run = try await harness.run(document)
        #expect(run.summary.status == .failed)
        // gen is torn down when step fails (it is cancelled, not succeeded): the done requirement fails, so cleanup is skipped.
        #expect(run.summary.outcome("gen") != .succeeded)
        #expect(run.summary.outcome("cleanupSource") == .skipped && run.summary.outcome("cleanup") == .skipped)
        #expect(run.summary.outcome("alert") == .succeeded)
    }

    @Test func theFailedPortIsDeclaredOnEveryNode() {
        for type in BuiltinNodes.all {
            #expect(type.spec.allOutputs.contains { $0.name == "failed" && $0.kind == .signal }, "\(type.spec.id)")
        }
    }
}
