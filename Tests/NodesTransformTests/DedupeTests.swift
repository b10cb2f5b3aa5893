import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// dedupe against DuckDB's window functions on the same file (ids give the input order): first and last seen,
/// first and last under an order with NULLs, NULL keys equal to each other, and a run long enough to compact.
@Suite struct DedupeTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,customer,day,amount"]
        for i in 1...20_000 {
            let customer = i % 97 == 0 ? "" : "c\(i % 61)"
            let day = i % 89 == 0 ? "" : "2026-01-0\(1 + i % 3)"
            let amount = i % 13 == 0 ? "" : String((i * 7919) % 1000)
            lines.append("\(i),\(customer),\(day),\(amount)")
        }
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    func dedupe(_ settings: String) async throws -> String {
        let output = "out-\(UUID().uuidString.prefix(8)).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: deduped
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, customer: string, day: string, amount: int64}}}
          - {id: d, type: dedupe, settings: \(settings)}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: d.in}
          - {from: d.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.events.messages.contains { $0.contains("duplicate(s)") })
        return dir.file(output)
    }

    func reference(_ order: String) -> String {
        """
        SELECT id, customer, day, amount FROM (
          SELECT *, row_number() OVER (PARTITION BY customer, day ORDER BY \(order)) AS rn
          FROM read_csv('\(dir.file("in.csv"))', header=true, columns={'id': 'BIGINT', 'customer': 'VARCHAR', 'day': 'VARCHAR', 'amount': 'BIGINT'})
        ) WHERE rn = 1 ORDER BY id
        """
    }

    @Test func firstAndLastSeenAndUnderAnOrderMatchDuckDB() async throws {
        let cases: [(String, String)] = [
            ("{key: [customer, day]}", "id"),
            ("{key: [customer, day], keep: last}", "id DESC"),
            ("{key: [customer, day], orderBy: [\"amount DESC\"]}", "amount DESC NULLS FIRST, id"),
            ("{key: [customer, day], orderBy: [\"amount DESC\"], keep: last}", "amount ASC NULLS LAST, id DESC"),
            ("{key: [customer, day], orderBy: [amount]}", "amount ASC NULLS LAST, id"),
        ]
        for (settings, order) in cases {
            let path = try await dedupe(settings)
            #expect(GoldenReference.differences(actual: path, sql: reference(order), ordered: true) == nil, "\(settings)")
        }
    }
}
