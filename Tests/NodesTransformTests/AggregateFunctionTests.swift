import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// The aggregate functions beyond count, sum, avg, min and max, against DuckDB on the same file (statistics rounded
/// to 9 digits on both sides: the order of floating-point additions differs), and approx_count_distinct against
/// the exact count within HyperLogLog's error.
@Suite struct AggregateFunctionTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["grp,x,label,flag"]
        for i in 1...5000 {
            let group = i % 97 == 0 ? "" : "g\(i % 7)"
            let x = i % 13 == 0 ? "" : String(format: "%.2f", Double((i * 7919) % 1000) / 8)
            let flag = i % 17 == 0 ? "" : (i % 5 == 0 ? "false" : "true")
            lines.append("\(group),\(x),l\(i % 400),\(flag)")
        }
        // One group with a single value (sample statistics are NULL there).
        lines.append("solo,3.5,only,true")
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    func aggregate(_ aggregates: String, round: [String] = []) async throws -> HarnessRun {
        let rounding = round.isEmpty ? "" : """
          - {id: r, type: compute, settings: {columns: {\(round.map { "\($0): \"round(\($0), 9)\"" }.joined(separator: ", "))}}}
        """
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: aggregated
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {grp: string, x: float64, label: string, flag: bool}}}
          - {id: a, type: aggregate, settings: {groupBy: [grp], aggregates: \(aggregates)}}
        \(rounding)
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: a.in}
        \(round.isEmpty ? "  - {from: a.out, to: out.in}" : "  - {from: a.out, to: r.in}\n  - {from: r.out, to: out.in}")
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        return run
    }

    var input: String {
        "read_csv('\(dir.file("in.csv"))', header=true, columns={'grp': 'VARCHAR', 'x': 'DOUBLE', 'label': 'VARCHAR', 'flag': 'BOOLEAN'})"
    }

    @Test func statisticsMatchDuckDB() async throws {
        _ = try await aggregate("{sd: \"stddev(x)\", sdp: \"stddev_pop(x)\", v: \"variance(x)\", vp: \"var_pop(x)\", med: \"median(x)\", p90: \"percentile_cont(x, 0.9)\"}",
                                round: ["sd", "sdp", "v", "vp", "med", "p90"])
        #expect(GoldenReference.differences(actual: dir.file("out.csv"), sql: """
            SELECT grp, round(stddev_samp(x), 9) AS sd, round(stddev_pop(x), 9) AS sdp, round(var_samp(x), 9) AS v, round(var_pop(x), 9) AS vp,
                   round(median(x), 9) AS med, round(quantile_cont(x, 0.9), 9) AS p90 FROM \(input) GROUP BY grp
            """) == nil)
    }

    @Test func textBooleanAndPositionalAggregatesMatchDuckDB() async throws {
        _ = try await aggregate("{every: \"bool_and(flag)\", some: \"bool_or(flag)\", firstLabel: \"first(label)\", lastX: \"last(x)\", distinctLabels: \"count(distinct label)\"}")
        #expect(GoldenReference.differences(actual: dir.file("out.csv"), sql: """
            SELECT grp, bool_and(flag) AS every, bool_or(flag) AS some, first(label) AS firstLabel, last(x) AS lastX, count(DISTINCT label) AS distinctLabels
            FROM \(input) GROUP BY grp
            """) == nil)
        _ = try await aggregate("{labels: \"string_agg(label, '|')\"}")
        let rows = try String(contentsOfFile: dir.file("out.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.contains("solo,only"), "\(rows.prefix(3))")
        #expect(rows.contains { $0.hasPrefix("g1,l1|l8|l15|") }, "in input order")
    }

    @Test func approxCountDistinctIsWithinItsError() async throws {
        _ = try await aggregate("{approx: \"approx_count_distinct(label)\", exact: \"count(distinct label)\"}")
        let rows = try String(contentsOfFile: dir.file("out.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        for row in rows {
            let cells = row.split(separator: ",", omittingEmptySubsequences: false)
            let approx = Double(cells[1])!, exact = Double(cells[2])!
            #expect(abs(approx - exact) <= max(2, exact * 0.05), "\(row)")
        }
    }
}
