import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Exact decimals through a pipeline: money sums equal DuckDB's exact DECIMAL sums digit for digit (no float
/// noise), arithmetic keeps PostgreSQL's scales, sums pass 18 digits exactly, and a sum past 38 digits fails the node
/// with a clear message.
@Suite struct DecimalTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,grp,amount,fee"]
        for i in 1...20_000 {
            let amount = i % 31 == 0 ? "" : String(format: "%.2f", Double((i * 7919) % 100_000) / 100 + 0.01)
            lines.append("\(i),g\(i % 7),\(amount),0.1\(i % 10)")
        }
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    @Test func sumsAndArithmeticAreExact() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: money
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, grp: string, amount: "decimal(12,2)", fee: "decimal(5,3)"}}}
          - {id: c, type: compute, settings: {columns: {net: "amount - fee", gross: "amount * 1.19", big: "amount > 500"}}}
          - {id: a, type: aggregate, settings: {groupBy: [grp], aggregates: {total: "sum(amount)", net: "sum(net)", gross: "sum(gross)", n: "count(*)", big: "bool_or(big)"}}}
          - {id: out, type: csv.write, settings: {path: sums.csv}}
        edges:
          - {from: src.out, to: c.in}
          - {from: c.out, to: a.in}
          - {from: a.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(GoldenReference.differences(actual: dir.file("sums.csv"), sql: """
            SELECT grp, sum(amount) AS total, sum(amount - fee) AS net, sum(amount * 1.19) AS gross, count(*) AS n, bool_or(amount > 500) AS big
            FROM read_csv('\(dir.file("in.csv"))', header=true, columns={'id': 'BIGINT', 'grp': 'VARCHAR', 'amount': 'DECIMAL(12,2)', 'fee': 'DECIMAL(5,3)'})
            GROUP BY grp
            """) == nil)
    }

    @Test(arguments: [150, 200])
    func aSumPastThirtyEightDigitsFailsTheNode(rows: Int) async throws {
        // 20 values of 18 digits sum to 19 digits, exactly; 150 or 200 values of 38 digits pass 10^38 (200 of them
        // even pass what 128 bits hold).
        try dir.write("big.csv", "x\n" + String(repeating: "999999999999999.99\n", count: 20))
        try dir.write("huge.csv", "x\n" + String(repeating: "999999999999999999999999999999999999.99\n", count: rows))
        let pipeline = { (file: String, type: String) in """
            apiVersion: sluice/v1
            name: huge
            nodes:
              - {id: src, type: csv.read, settings: {path: \(file).csv, schema: {x: "\(type)"}}}
              - {id: a, type: aggregate, settings: {aggregates: {total: "sum(x)", mean: "avg(x)"}}}
              - {id: out, type: csv.write, settings: {path: \(file)-sum.csv}}
            edges:
              - {from: src.out, to: a.in}
              - {from: a.out, to: out.in}
            """ }
        let big = try await harness.run(pipeline("big", "decimal(18,2)"))
        #expect(big.summary.status == .succeeded, "\(big.summary.error ?? "")")
        #expect(try String(contentsOfFile: dir.file("big-sum.csv"), encoding: .utf8) == "total,mean\n19999999999999999.80,999999999999999.990000\n")
        let huge = try await harness.run(pipeline("huge", "decimal(38,2)"))
        #expect(huge.summary.status == .failed)
        #expect(huge.summary.error?.contains("the decimal sum 'total' has more than 38 digits") == true, "\(huge.summary.error ?? "")")
    }
}
