import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Synchronization
import Testing

/// Debug runs: breakpoints on nodes and edges, with or without a condition, pause the run; step and continue
/// let it go on and it writes exactly what a normal run writes; stop cancels it with its sinks rolled back; a
/// debug run commits nothing unless asked to.
@Suite struct RunDebuggerTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(registry: testRegistry, directory: dir)
        // 400 orders in batches the CSV reader cuts as it likes; amount 10, 20, … so `amount > 3000` first holds at id 301.
        try dir.write("orders.csv", "id,amount\n" + (1...400).map { "\($0),\($0 * 10)" }.joined(separator: "\n") + "\n")
    }

    /// gen (40 batches of 10 rows: n = 0…399) → taxed (compute) → out (csv.write).
    func pipeline(_ output: String = "out.csv") -> String {
        """
        apiVersion: sluice/v1
        name: debugged
        nodes:
          - {id: gen, type: test.generate, settings: {batches: 40, rows: 10}}
          - {id: taxed, type: compute, settings: {columns: {gross: "n * 2"}}}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: gen.out, to: taxed.in}
          - {from: taxed.out, to: out.in}
        """
    }

    struct Session {
        let result: RunResult
        let pauses: [DebugPause]
    }

    /// Runs `yaml` under a debugger; `decide` answers each pause as a controller would.
    func debug(_ yaml: String, _ breakpoints: [String], commits: Bool = true, decide: @escaping @Sendable (DebugPause) -> DebugCommand) async throws -> Session {
        let plan = try await harness.plan(yaml, forRun: true)
        let (stream, continuation) = AsyncStream<DebugPause?>.makeStream()
        let debugger = try RunDebugger(breakpoints: breakpoints.map { try #require(Breakpoint($0)) }, plan: plan) { continuation.yield($0) }
        var options = RunOptions(events: EventLog(), rejects: MemoryRejectStore())
        options.debugger = debugger
        options.commitsOutputs = commits
        let run = Task { [options] in await RunExecutor().run(plan, options: options) }
        let seen = Mutex<[DebugPause]>([])
        let controller = Task {
            for await pause in stream {
                guard let pause else { continue }
                seen.withLock { $0.append(pause) }
                let command = decide(pause)
                debugger.command(command)
                if command == .stop { run.cancel() }
            }
        }
        let result = await run.value
        continuation.finish()
        await controller.value
        return Session(result: result, pauses: seen.withLock { $0 })
    }

    func normalOutput() async throws -> String {
        let run = try await harness.run(pipeline("normal.csv"))
        #expect(run.summary.status == .succeeded)
        return try dir.read("normal.csv")
    }

    @Test func aNodeBreakpointPausesBeforeTheNodeTakesItsFirstBatch() async throws {
        let session = try await debug(pipeline(), ["taxed"]) { _ in .continue }
        #expect(session.result.summary.status == .succeeded)
        #expect(session.pauses.count == 40, "continue runs to the next breakpoint: this one again, at the next batch")
        let pause = try #require(session.pauses.first)
        #expect(pause.point == .node("taxed") && pause.node == "taxed" && pause.reason == "taxed")
        #expect(pause.batchRows == 10 && pause.rows.first == [.int(0)] && pause.matchingRow == nil)
        #expect(try dir.read("out.csv") == (try await normalOutput()))
    }

    @Test func stepPausesAtEveryBatchAndTheOutputIsANormalRunsOutput() async throws {
        let session = try await debug(pipeline(), ["taxed"]) { _ in .step }
        #expect(session.result.summary.status == .succeeded)
        #expect(session.pauses.count == 40, "one pause per batch")
        #expect(session.pauses.map(\.sequence) == Array(1...40))
        #expect(session.pauses.dropFirst().allSatisfy { $0.reason == "step" })
        #expect(session.pauses.map { $0.rows.first?.first } == (0..<40).map { Value.int(Int64($0 * 10)) })
        #expect(try dir.read("out.csv") == (try await normalOutput()))
    }

    @Test func aConditionalBreakpointPausesAtTheFirstBatchHoldingAMatchingRow() async throws {
        let session = try await debug(pipeline(), ["taxed:n > 123 AND n % 2 = 0"]) { _ in .continue }
        let pause = try #require(session.pauses.first)
        #expect(session.pauses.count == 28, "every batch holding a matching row: 120…129 to 390…399")
        #expect(pause.matchingRow == 4, "n = 124 is the fifth row of the batch 120…129")
        #expect(pause.rows[pause.matchingRow! - pause.firstRow] == [.int(124)])
        #expect(try dir.read("out.csv") == (try await normalOutput()))
    }

    @Test func anEdgeBreakpointSeesWhatCrossesTheEdge() async throws {
        let yaml = pipeline().replacingOccurrences(of: "- {from: taxed.out, to: out.in}", with: "- {from: taxed.out, to: out.in, where: \"gross > 700\", select: [gross]}")
        let session = try await debug(yaml, ["taxed.out->out.in:gross >= 780"]) { _ in .continue }
        let pause = try #require(session.pauses.first)
        #expect(pause.point == .edge(from: "taxed.out", to: "out.in") && pause.node == "taxed")
        #expect(pause.schema.names == ["gross"], "after the edge's select")
        #expect(pause.matchingRow == 0 && pause.rows[0] == [.int(780)] && pause.batchRows == 10, "n = 390 is the first row of the last batch")
        #expect(session.pauses.count == 1)
        #expect(session.result.summary.status == .succeeded)
    }

    @Test func aBreakpointOnASourcePausesBeforeEachBatchItPutsOut() async throws {
        let yaml = """
        apiVersion: sluice/v1
        name: source
        nodes:
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: orders.out, to: out.in}
        """
        let session = try await debug(yaml, ["orders:amount > 3000"]) { _ in .continue }
        let pause = try #require(session.pauses.first)
        let row = try #require(pause.matchingRow)
        #expect(pause.rows[row - pause.firstRow] == [.int(301), .int(3010)])
        #expect(try dir.read("out.csv").split(separator: "\n").count == 401)
    }

    @Test func stopCancelsTheRunAndLeavesSinksUntouched() async throws {
        let session = try await debug(pipeline(), ["taxed:n >= 200"]) { _ in .stop }
        #expect(session.result.summary.status == .cancelled)
        #expect(!dir.exists("out.csv"), "the sink rolled back")
    }

    @Test func aDebugRunCommitsNothingUnlessAsked() async throws {
        let session = try await debug(pipeline(), [], commits: false) { _ in .continue }
        #expect(session.result.summary.status == .succeeded)
        #expect(session.pauses.isEmpty)
        #expect(!dir.exists("out.csv"))
    }

    @Test func breakpointsAreCheckedAgainstThePlan() async throws {
        let plan = try await harness.plan(pipeline(), forRun: true)
        #expect(Breakpoint("taxed:") == nil && Breakpoint("a.b") == nil && Breakpoint("a->b") == nil)
        #expect(Breakpoint("gen.out->taxed.in:n > 1")?.point == .edge(from: "gen.out", to: "taxed.in"))
        #expect(Breakpoint("taxed:ts > '2024-01-01T00:00:00Z'")?.condition == "ts > '2024-01-01T00:00:00Z'")
        for (text, message) in [("nothere", "there is no node 'nothere'"), ("gen.out->out.in", "no data edge gen.out → out.in"),
                                ("taxed:missing > 1", "missing"), ("taxed:n +", "breakpoint taxed:n +")] {
            do {
                _ = try RunDebugger(breakpoints: [try #require(Breakpoint(text))], plan: plan) { _ in }
                Issue.record("\(text) should be refused")
            } catch {
                #expect((error as? ConfigErrors)?.errors.first?.message.contains(message) == true, "\(error)")
            }
        }
    }
}
