import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// window against DuckDB's window functions on the same file: numbering and ranks with peers, lag and lead with
/// offsets and defaults, first and last values, running aggregates over SQL's default frame and over ROWS frames,
/// NULLs, one partition and many, and the sort spilling to disk.
@Suite struct WindowTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,customer,day,amount"]
        for i in 1...3000 {
            let customer = i % 53 == 0 ? "" : "c\(i % 17)"
            let amount = i % 11 == 0 ? "" : String((i * 37) % 50)
            lines.append("\(i),\(customer),\(1 + (i * 7) % 9),\(amount)")
        }
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    func window(_ settings: String) async throws -> String {
        let output = "out-\(UUID().uuidString.prefix(8)).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: windowed
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, customer: string, day: int64, amount: int64}}}
          - {id: w, type: window, settings: \(settings)}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: w.in}
          - {from: w.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        return dir.file(output)
    }

    var input: String {
        "read_csv('\(dir.file("in.csv"))', header=true, columns={'id': 'BIGINT', 'customer': 'VARCHAR', 'day': 'BIGINT', 'amount': 'BIGINT'})"
    }

    @Test(arguments: ["256MB", "4KB"])
    func numberingOffsetsAndValuesMatchDuckDB(memory: String) async throws {
        let path = try await window("""
        {partitionBy: [customer], orderBy: [day, id], memoryLimit: \(memory), columns: {rn: "row_number()", previous: "lag(amount)",
         next2: "lead(amount, 2, -1)", first: "first_value(amount)", moving: "sum(amount) ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
         lowest3: "min(amount) ROWS BETWEEN 3 PRECEDING AND CURRENT ROW", n: "count(amount) ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"}}
        """)
        let over = "OVER (PARTITION BY customer ORDER BY day, id)"
        #expect(GoldenReference.differences(actual: path, sql: """
            SELECT *, row_number() \(over) AS rn, lag(amount) \(over) AS previous, lead(amount, 2, -1) \(over) AS next2,
                   first_value(amount) \(over) AS first,
                   sum(amount) OVER (PARTITION BY customer ORDER BY day, id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS moving,
                   min(amount) OVER (PARTITION BY customer ORDER BY day, id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS lowest3,
                   count(amount) OVER (PARTITION BY customer ORDER BY day, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n
            FROM \(input)
            """) == nil, "memory \(memory)")
    }

    @Test func ranksAndRunningAggregatesOverPeersMatchDuckDB() async throws {
        let path = try await window("""
        {partitionBy: [customer], orderBy: ["day DESC"], columns: {r: "rank()", dr: "dense_rank()", running: "sum(amount)", average: "avg(amount)",
         most: "max(amount)", last: "last_value(day)", rows: "count(*)"}}
        """)
        let over = "OVER (PARTITION BY customer ORDER BY day DESC)"
        #expect(GoldenReference.differences(actual: path, sql: """
            SELECT *, rank() \(over) AS r, dense_rank() \(over) AS dr, sum(amount) \(over) AS running, avg(amount) \(over) AS average,
                   max(amount) \(over) AS most, last_value(day) \(over) AS last, count(*) \(over) AS rows
            FROM \(input)
            """) == nil)
        let whole = try await window("{columns: {total: \"sum(amount)\", rows: \"count(*)\", smallest: \"min(amount)\"}}")
        #expect(GoldenReference.differences(actual: whole, sql: """
            SELECT *, sum(amount) OVER () AS total, count(*) OVER () AS rows, min(amount) OVER () AS smallest FROM \(input)
            """) == nil, "without partitionBy and orderBy: one partition, the whole of it")
    }

    @Test(arguments: ["256MB", "64KB"])
    func partitionsSpanningSortedBatchesMatchDuckDB(memory: String) async throws {
        // 200,000 rows: sorted output comes in several batches. With room, the sort ends each batch where a
        // partition ends; with 64KB it spills and cannot, so partitions (a few huge ones, many tiny ones) cross
        // batch boundaries. Running sums stay linear in the partition size.
        var lines = ["id,customer,day,amount"]
        for i in 1...200_000 {
            let customer = i % 3 == 0 ? "big\(i % 2)" : "c\(i % 40_000)"
            lines.append("\(i),\(customer),\(i % 97),\(i % 13 == 0 ? "" : String((i * 31) % 1000))")
        }
        try dir.write("many.csv", lines.joined(separator: "\n") + "\n")
        let output = "many-out-\(memory).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: many
        nodes:
          - {id: src, type: csv.read, settings: {path: many.csv, schema: {id: int64, customer: string, day: int64, amount: int64}}}
          - {id: w, type: window, settings: {partitionBy: [customer], orderBy: [day, id], memoryLimit: \(memory),
              columns: {rn: "row_number()", running: "sum(amount)", previous: "lag(id)", r: "rank()"}}}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: w.in}
          - {from: w.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let over = "OVER (PARTITION BY customer ORDER BY day, id)"
        #expect(GoldenReference.differences(actual: dir.file(output), sql: """
            SELECT *, row_number() \(over) AS rn, sum(amount) \(over) AS running, lag(id) \(over) AS previous, rank() \(over) AS r
            FROM read_csv('\(dir.file("many.csv"))', header=true, columns={'id': 'BIGINT', 'customer': 'VARCHAR', 'day': 'BIGINT', 'amount': 'BIGINT'})
            """) == nil)
    }

    @Test func badFunctionsAreRefusedOnTheirColumn() async throws {
        for (text, expected) in [("rank(amount)", "takes no argument"), ("median(amount)", "not a window function"),
                                 ("row_number() ROWS BETWEEN 1 PRECEDING AND CURRENT ROW", "ROWS frame"), ("lag(amount, -1)", "offset")] {
            do {
                _ = try await window("{orderBy: [id], columns: {x: \"\(text)\"}}")
                Issue.record("accepted \(text)")
            } catch let errors as ConfigErrors {
                #expect(errors.errors.first?.field == "columns.x" && errors.errors.first?.message.contains(expected) == true, "\(text): \(errors)")
            }
        }
    }
}
