import Foundation
import NodeKit
import NodesTransform
import Runtime
import SluiceTestSupport
import Testing

/// profile against DuckDB's aggregates on the same file (counts, NULLs, exact distinct, min, max, mean, stddev,
/// percentiles, most frequent values); the estimates past the exact bounds within their error; the HTML report
/// written at commit only, escaped, with its histograms.
@Suite struct ProfileTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,amount,price,country,day"]
        for i in 1...10_000 {
            let amount = i % 17 == 0 ? "" : String((i * 7919) % 5000 - 700)
            let price = String(format: "%.2f", Double((i * 37) % 9999) / 100 + 0.01)
            let country = ["DE", "FR", "", "Zürich", "<b>US</b>", "DE", "JP", "DE"][i % 8]
            let day = "2026-0\(1 + i % 9)-1\(i % 10)"
            lines.append("\(i),\(amount),\(price),\(country),\(day)")
        }
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    var table: String {
        "read_csv('\(dir.file("in.csv"))', header=true, columns={'id': 'BIGINT', 'amount': 'BIGINT', 'price': 'DOUBLE', 'country': 'VARCHAR', 'day': 'DATE'})"
    }

    func profile(_ settings: String, output: String) async throws -> HarnessRun {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: profiled
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64, price: float64, country: string, day: date}}}
          - {id: stats, type: profile, settings: \(settings)}
          - {id: rounded, type: compute, settings: {columns: {mean: "round(mean, 6)", stddev: "round(stddev, 6)", p50: "round(p50, 6)", p90: "round(p90, 6)", p99: "round(p99, 6)"}}}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: stats.in}
          - {from: stats.out, to: rounded.in, select: [column, type, rows, count, nulls, distinct, distinct_exact, min, max, mean, stddev, p50, p90, p99]}
          - {from: rounded.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        return run
    }

    func reference(_ column: String, type: String, numeric: Bool) -> String {
        let statistics = numeric
            ? ["round(avg(\(column)), 6)", "round(stddev_samp(\(column)), 6)"] + [0.5, 0.9, 0.99].map { "round(quantile_cont(\(column), \($0)), 6)" }
            : Array(repeating: "NULL::DOUBLE", count: 5)
        let named = zip(statistics, ["mean", "stddev", "p50", "p90", "p99"]).map { "\($0) AS \($1)" }.joined(separator: ", ")
        return """
        SELECT '\(column)' AS "column", '\(type)' AS "type", count(*) AS "rows", count(\(column)) AS "count", count(*) - count(\(column)) AS nulls,
               count(DISTINCT \(column)) AS "distinct", true AS distinct_exact, min(\(column))::VARCHAR AS "min", max(\(column))::VARCHAR AS "max", \(named)
        FROM \(table)
        """
    }

    @Test func statisticsMatchDuckDB() async throws {
        _ = try await profile("{columns: [amount, price, country, day]}", output: "profile.csv")
        let columns = [("amount", "int64", true), ("price", "float64", true), ("country", "string", false), ("day", "date", false)]
        let sql = columns.map { reference($0.0, type: $0.1, numeric: $0.2) }.joined(separator: " UNION ALL ")
        #expect(GoldenReference.differences(actual: dir.file("profile.csv"), sql: sql) == nil)
    }

    @Test func topValuesMatchDuckDB() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: top
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64, price: float64, country: string, day: date}}}
          - {id: stats, type: profile, settings: {columns: [country], top: 3}}
          - {id: out, type: jsonl.write, settings: {path: top.jsonl}}
        edges:
          - {from: src.out, to: stats.in}
          - {from: stats.out, to: out.in, select: [column, top]}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let line = try dir.read("top.jsonl")
        // DE is 3 of 8 rows; the rest 1 of 8 each (an empty field is NULL, not a value), ties broken by value (byte) order.
        #expect(line.contains(#""top":[{"value":"DE","count":3750},{"value":"<b>US</b>","count":1250},{"value":"FR","count":1250}]"#), "\(line)")
    }

    @Test func pastTheExactBoundsDistinctAndPercentilesAreEstimated() async throws {
        var lines = ["id,x"]
        for i in 0..<300_000 { lines.append("\(i),\(Double((i &* 2_654_435_761) % 1_000_003) / 1000)") }
        try dir.write("big.csv", lines.joined(separator: "\n") + "\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: big
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv, schema: {id: int64, x: float64}}}
          - {id: stats, type: profile, settings: {exactDistinct: 1000}}
          - {id: out, type: csv.write, settings: {path: big-profile.csv}}
        edges:
          - {from: src.out, to: stats.in}
          - {from: stats.out, to: out.in, select: [column, distinct, distinct_exact, p50, p90, p99]}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let rows = try dir.read("big-profile.csv").split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let id = try #require(rows.first { $0[0] == "id" })
        #expect(id[2] == "false")
        #expect(abs(Double(id[1])! - 300_000) / 300_000 < 0.05, "HyperLogLog within 5 %: \(id)")
        let x = try #require(rows.first { $0[0] == "x" })
        let exact = try referencePercentiles()
        for (k, column) in [3, 4, 5].enumerated() {
            #expect(abs(Double(x[column])! - exact[k]) < 1000 * 0.01, "percentile \(k) within 1 % of the range: \(x) vs \(exact)")
        }
    }

    func referencePercentiles() throws -> [Double] {
        // Exact values computed the same way as the file, sorted.
        var values = (0..<300_000).map { Double(($0 &* 2_654_435_761) % 1_000_003) / 1000 }
        values.sort()
        return [0.5, 0.9, 0.99].map { f in
            let position = f * Double(values.count - 1)
            let low = Int(position), high = min(low + 1, values.count - 1)
            return values[low] + (values[high] - values[low]) * (position - Double(low))
        }
    }

    @Test func theReportAppearsAtCommitAndEscapesValues() async throws {
        _ = try await harness.run("""
        apiVersion: sluice/v1
        name: report
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: stats, type: profile, settings: {report: reports/in.html, title: "Orders <profile>"}}
          - {id: out, type: csv.write, settings: {path: rows.csv}}
        edges:
          - {from: src.out, to: stats.in}
          - {from: stats.out, to: out.in}
        """)
        let page = try dir.read("reports/in.html")
        #expect(page.hasPrefix("<!doctype html>") && page.contains("Orders &lt;profile&gt;"))
        #expect(page.contains("&lt;b&gt;US&lt;/b&gt;") && !page.contains("<b>US</b>"), "values are escaped")
        #expect(page.contains("aria-label=\"histogram of amount\"") && page.contains("aria-label=\"most frequent values of country\""))
        #expect(!page.contains("<script") && !page.contains("http"), "self-contained")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.file("reports"))
        #expect(leftovers == ["in.html"], "no temporary file is left: \(leftovers)")

        let preview = try await harness.run("""
        apiVersion: sluice/v1
        name: report
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: stats, type: profile, settings: {report: reports/preview.html}}
        edges:
          - {from: src.out, to: stats.in}
        """, preview: "stats")
        #expect(preview.summary.status == .succeeded)
        #expect(!FileManager.default.fileExists(atPath: dir.file("reports/preview.html")), "a preview writes no report")
    }
}
