import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

@Suite struct TransformTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        try dir.write("orders.csv", """
        id,country,status,amount,qty
        1,DE,paid,10.5,2
        2,FR,paid,20,
        3,DE,open,5,1
        4,DE,paid,,3
        5,US,paid,100,4
        6,FR,open,7.25,1

        """)
        harness = PipelineHarness(directory: dir)
    }

    /// Runs orders.csv through `nodes` (the last one named `last`) and returns its output rows.
    func through(_ nodes: String, _ edges: String) async throws -> (HarnessRun, [[Value]]) {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
        \(nodes)
        edges:
        \(edges)
        """, preview: "last", previewLimit: 1000)
        return (run, rows(run.result.preview))
    }

    @Test func filterTreatsNullAsFalse() async throws {
        let (_, out) = try await through("  - {id: last, type: filter, settings: {where: \"amount > 8\"}}", "  - {from: src.out, to: last.in}")
        #expect(out.map { $0[0] } == [.int(1), .int(2), .int(5)])
    }

    @Test func computeAddsAndReplacesInOrder() async throws {
        let (run, out) = try await through("""
          - {id: last, type: compute, settings: {columns: {amount: "coalesce(amount, 0)", total: "amount * coalesce(qty, 1)", label: "country || '-' || id"}}}
        """, "  - {from: src.out, to: last.in}")
        #expect(run.result.preview.first?.schema.names == ["id", "country", "status", "amount", "qty", "total", "label"])
        #expect(out[3][3] == .float(0) && out[3][5] == .float(0))
        #expect(out[0][5] == .float(21) && out[0][6] == .string("DE-1"))
    }

    @Test func selectKeepsRenamesCastsAndRejects() async throws {
        let (run, out) = try await through("""
          - {id: last, type: select, settings: {columns: [status, id, amount], rename: {amount: value}, cast: {status: int64, id: string}}}
        """, "  - {from: src.out, to: last.in}")
        // Every status fails the cast to int64: each row is rejected with the reason, none silently dropped.
        #expect(out.isEmpty)
        #expect(run.rejects.count == 6 && run.rejects.allSatisfy { $0.record.code == "invalid_cast" })
        let (_, renamed) = try await through("""
          - {id: last, type: select, settings: {drop: [qty, status], rename: {amount: value}, cast: {id: string}}}
        """, "  - {from: src.out, to: last.in}")
        #expect(renamed.first == [.string("1"), .string("DE"), .float(10.5)])
        #expect(await harness.problems("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
          - {id: last, type: select, settings: {columns: [idd]}}
        edges:
          - {from: src.out, to: last.in}
        """).first?.message.contains("unknown column 'idd'") == true)
    }

    @Test func aggregateGroupsAndHandlesNulls() async throws {
        let (_, out) = try await through("""
          - {id: last, type: aggregate, settings: {groupBy: [country], aggregates: {n: "count(*)", amounts: "count(amount)", statuses: "count(distinct status)", total: "sum(amount)", avg: "avg(amount)", low: "min(amount)", high: "max(status)", units: "sum(qty)"}}}
        """, "  - {from: src.out, to: last.in}")
        #expect(out == [
            [.string("DE"), .int(3), .int(2), .int(2), .float(15.5), .float(7.75), .float(5), .string("paid"), .int(6)],
            [.string("FR"), .int(2), .int(2), .int(2), .float(27.25), .float(13.625), .float(7.25), .string("paid"), .int(1)],
            [.string("US"), .int(1), .int(1), .int(1), .float(100), .float(100), .float(100), .string("paid"), .int(4)],
        ])
    }

    @Test func countStarNeedsNoColumnsButCountsEveryRow() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
          - {id: last, type: aggregate, settings: {aggregates: {n: "count(*)"}}}
        edges:
          - {from: src.out, to: last.in}
        """, preview: "last")
        let plan = try await harness.plan("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
          - {id: last, type: aggregate, settings: {aggregates: {n: "count(*)"}}}
          - {id: out, type: csv.write, settings: {path: n.csv}}
        edges:
          - {from: src.out, to: last.in}
          - {from: last.out, to: out.in}
        """)
        #expect(plan.node("src")?.outputSchemas["out"]?.count == 0)
        #expect(rows(run.result.preview) == [[.int(6)]])
        #expect(run.summary.counts("src")?.recordsOut == 6)
    }

    @Test func aggregateWithoutGroupsGivesOneRowEvenForNoInput() async throws {
        let (_, out) = try await through("""
          - {id: none, type: filter, settings: {where: "id < 0"}}
          - {id: last, type: aggregate, settings: {aggregates: {n: "count(*)", total: "sum(amount)"}}}
        """, "  - {from: src.out, to: none.in}\n  - {from: none.out, to: last.in}")
        #expect(out == [[.int(0), .null]])
    }

    @Test func aggregateRejectsBadSettingsAtPlanTime() async {
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
          - {id: last, type: aggregate, settings: {groupBy: [country], aggregates: {a: "sum(status)", b: "mode(amount)"}}}
        edges:
          - {from: src.out, to: last.in}
        """)
        #expect(problems.count == 1)
        #expect(problems.first?.field == "aggregates.b")
    }

    @Test func limitStopsEarlyAndOffsets() async throws {
        let (_, out) = try await through("  - {id: last, type: limit, settings: {count: 2, offset: 3}}", "  - {from: src.out, to: last.in}")
        #expect(out.map { $0[0] } == [.int(4), .int(5)])
    }

    @Test func limitEndsAHugeSourceEarly() async throws {
        var text = "n\n"
        for i in 0..<200_000 { text += "\(i)\n" }
        try dir.write("big.csv", text)
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv, batchRows: 1000, threads: 1}}
          - {id: first, type: limit, settings: {count: 10}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: first.in}
          - {from: first.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded)
        #expect(try dir.read("out.csv").split(separator: "\n").count == 11)
        #expect((run.summary.counts("src")?.recordsOut ?? 0) < 200_000)
    }

    @Test func unionMatchesColumnsByName() async throws {
        try dir.write("more.csv", "amount,id,country,status,qty\n1,9,IT,paid,1\n")
        let (_, out) = try await through("""
          - {id: more, type: csv.read, settings: {path: more.csv, schema: {amount: float64}}}
          - {id: last, type: union}
        """, "  - {from: src.out, to: last.in}\n  - {from: more.out, to: last.in}")
        #expect(out.count == 7)
        #expect(out.contains([.int(9), .string("IT"), .string("paid"), .float(1), .int(1)]))
    }

    @Test func logWritesASampleAndTheCount() async throws {
        let (run, out) = try await through("  - {id: last, type: log, settings: {sample: 2, label: peek}}", "  - {from: src.out, to: last.in}")
        #expect(out.count == 6)
        #expect(run.events.messages.filter { $0.hasPrefix("peek row") }.count == 2)
        #expect(run.events.messages.contains("peek: 6 rows"))
    }
}
