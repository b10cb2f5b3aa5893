import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Decimals of 19 to 38 digits (128-bit) through every transform that moves, orders or groups values: sorting,
/// grouping and summing, joining (the build side spilled to disk) and deduplicating on a wide key, running window
/// sums (over a spilled sort) and arithmetic, each compared with DuckDB's exact DECIMAL(38) results on the same
/// file, digit for digit.
@Suite struct WideDecimalTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness
    static let schema = #"{id: int64, k: "decimal(25,5)", v: "decimal(38,10)"}"#
    var duckRead: String {
        "read_csv('\(dir.file("wide.csv"))', header=true, columns={'id': 'BIGINT', 'k': 'DECIMAL(25,5)', 'v': 'DECIMAL(38,10)'})"
    }

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,k,v"]
        for i in 1...4_000 {
            // 40 keys of 20 integer digits; values up to 25 integer digits and 10 places (35 digits), negatives, NULLs.
            let key = "\(i % 40 == 7 ? "-" : "")\(10_000_000_000_000_000 + (i % 40) * 7_919)123.\(String(format: "%05d", (i % 40) * 13))"
            let value = i % 17 == 0 ? "" : "\(i % 3 == 0 ? "-" : "")\((i * 982_451_653) % 1_000_000_000)\(String(format: "%016d", i * 7_777))."
                + String(format: "%010d", (i * 104_729) % 10_000_000_000)
            lines.append("\(i),\(key),\(value)")
        }
        try dir.write("wide.csv", lines.joined(separator: "\n") + "\n")
        var keys = ["k,label"]
        for j in stride(from: 0, to: 40, by: 2) {
            keys.append("\(j == 7 ? "-" : "")\(10_000_000_000_000_000 + j * 7_919)123.\(String(format: "%05d", j * 13)),key \(j)")
        }
        try dir.write("keys.csv", keys.joined(separator: "\n") + "\n")
    }

    /// Runs wide.csv through `nodes` (a chain from `src` ending in node `t`) into `output`.
    func run(_ nodes: String, chain: [String] = ["t"], output: String) async throws {
        let steps = ["src"] + chain + ["out"]
        let edges = zip(steps, steps.dropFirst()).map { "  - {from: \($0).out, to: \($1).in}" }.joined(separator: "\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: wide
        nodes:
          - {id: src, type: csv.read, settings: {path: wide.csv, schema: \(Self.schema)}}
        \(nodes)
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
        \(edges)
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.rejects.isEmpty, "\(run.rejects.prefix(3))")
    }

    @Test(arguments: ["256MB", "64KB"])
    func sortingSpilledOrNotMatchesDuckDB(memory: String) async throws {
        try await run("  - {id: t, type: sort, settings: {by: [\"v DESC NULLS LAST\", \"k\", \"id\"], memoryLimit: \(memory)}}", output: "sorted.csv")
        #expect(GoldenReference.differences(actual: dir.file("sorted.csv"), sql: "SELECT * FROM \(duckRead) ORDER BY v DESC NULLS LAST, k, id", ordered: true) == nil)
    }

    @Test func groupingSumsAndExtremesMatchDuckDB() async throws {
        try await run("  - {id: t, type: aggregate, settings: {groupBy: [k], aggregates: {total: \"sum(v)\", low: \"min(v)\", high: \"max(v)\", n: \"count(v)\"}}}",
                      output: "groups.csv")
        #expect(GoldenReference.differences(actual: dir.file("groups.csv"), sql: """
            SELECT k, sum(v) AS total, min(v) AS low, max(v) AS high, count(v) AS n FROM \(duckRead) GROUP BY k
            """) == nil)
    }

    @Test func arithmeticAndRunningSumsMatchDuckDB() async throws {
        try await run("""
              - {id: c, type: compute, settings: {columns: {tripled: "v * 3 - k", shifted: "k + 0.00001"}}}
              - {id: t, type: window, settings: {partitionBy: [k], orderBy: [id], columns: {running: "sum(v)"}, memoryLimit: 64KB}}
            """, chain: ["c", "t"], output: "window.csv")
        #expect(GoldenReference.differences(actual: dir.file("window.csv"), sql: """
            SELECT id, k, v, v * 3 - k AS tripled, k + 0.00001 AS shifted,
                   sum(v) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
            FROM \(duckRead)
            """) == nil)
    }

    @Test func joiningAndDeduplicatingOnAWideKeyMatchDuckDB() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: wide-join
        nodes:
          - {id: src, type: csv.read, settings: {path: wide.csv, schema: \(Self.schema)}}
          - {id: keys, type: csv.read, settings: {path: keys.csv, schema: {k: "decimal(25,5)", label: string}}}
          - {id: j, type: join, settings: {on: [k], type: inner, build: left, memoryLimit: 64KB}}
          - {id: d, type: dedupe, settings: {key: [k], keep: first, orderBy: [id]}}
          - {id: joined, type: csv.write, settings: {path: joined.csv}}
          - {id: firsts, type: csv.write, settings: {path: firsts.csv}}
        edges:
          - {from: src.out, to: j.left}
          - {from: keys.out, to: j.right}
          - {from: j.out, to: joined.in}
          - {from: src.out, to: d.in}
          - {from: d.out, to: firsts.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let keys = "read_csv('\(dir.file("keys.csv"))', header=true, columns={'k': 'DECIMAL(25,5)', 'label': 'VARCHAR'})"
        #expect(GoldenReference.differences(actual: dir.file("joined.csv"), sql: "SELECT o.id, o.k, o.v, c.label FROM \(duckRead) o JOIN \(keys) c ON o.k = c.k") == nil)
        #expect(GoldenReference.differences(actual: dir.file("firsts.csv"), sql: """
            SELECT id, k, v FROM \(duckRead) QUALIFY row_number() OVER (PARTITION BY k ORDER BY id) = 1
            """) == nil)
    }

    /// Through JSON Lines and back (numbers written with every digit, read at the declared type), then CSV: the
    /// same text as the input.
    @Test func jsonLinesKeepEveryDigit() async throws {
        let written = try await harness.run("""
        apiVersion: sluice/v1
        name: to-jsonl
        nodes:
          - {id: src, type: csv.read, settings: {path: wide.csv, schema: \(Self.schema)}}
          - {id: out, type: jsonl.write, settings: {path: wide.jsonl}}
        edges:
          - {from: src.out, to: out.in}
        """)
        #expect(written.summary.status == .succeeded, "\(written.summary.error ?? "")")
        let read = try await harness.run("""
        apiVersion: sluice/v1
        name: from-jsonl
        nodes:
          - {id: src, type: jsonl.read, settings: {path: wide.jsonl, schema: \(Self.schema)}}
          - {id: out, type: csv.write, settings: {path: again.csv}}
        edges:
          - {from: src.out, to: out.in}
        """)
        #expect(read.summary.status == .succeeded && read.rejects.isEmpty, "\(read.summary.error ?? "")")
        #expect(try String(contentsOfFile: dir.file("again.csv"), encoding: .utf8) == String(contentsOfFile: dir.file("wide.csv"), encoding: .utf8))
    }
}
