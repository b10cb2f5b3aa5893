import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Time windows of the window node against DuckDB (tumbling and sliding, per partition, with NULL times and
/// values), and the property that matters for streams: an incremental input split into several runs yields the
/// same windows as one run over all of it, because open windows travel in the state committed with the data.
@Suite struct TimeWindowTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = try PipelineHarness(directory: dir, connectionsYAML: "local: {type: sqlite, path: data/local.db}\n")
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
    }

    /// Events over about six hours: id, country, amount (decimal, some NULL), at (some NULL).
    func events(_ range: ClosedRange<Int>) -> [String] {
        range.map { i in
            let seconds = i * 37 + (i % 5) * 11
            let at = i % 211 == 0 ? "" : ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1_767_225_600 + Double(seconds)))
            let amount = i % 19 == 0 ? "" : String(format: "%.2f", Double((i * 7919) % 10_000) / 100)
            return "\(i),\(["DE", "FR", "Zürich"][i % 3]),\(amount),\(at)"
        }
    }

    func reference(size: Int, every: Int, _ file: String) -> String {
        """
        WITH t AS (SELECT *, epoch_us("at") AS us FROM read_csv('\(file)', header=true, columns={'id': 'BIGINT', 'country': 'VARCHAR', 'amount': 'DECIMAL(10,2)', 'at': 'TIMESTAMP'})),
        w AS (SELECT t.*, (floor(us / \(every)) * \(every) - k * \(every))::BIGINT AS ws FROM t, range(0, \(size / every)) r(k) WHERE "at" IS NOT NULL)
        SELECT country, strftime(make_timestamp(ws), '%Y-%m-%dT%H:%M:%SZ') AS window_start, strftime(make_timestamp(ws + \(size)), '%Y-%m-%dT%H:%M:%SZ') AS window_end,
               count(*) AS orders, sum(amount) AS revenue, round(avg(amount), 6) AS mean, min(amount) AS low, max(id) AS last_id
        FROM w GROUP BY country, ws
        """
    }

    func windowed(_ window: String, output: String) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: windowed
        nodes:
          - {id: src, type: csv.read, settings: {path: events.csv, schema: {id: int64, country: string, amount: "decimal(10,2)", at: timestamp}}}
          - {id: w, type: window, settings: {partitionBy: [country], time: at, \(window), aggregates: {orders: "count(*)", revenue: "sum(amount)", mean: "avg(amount)", low: "min(amount)", last_id: "max(id)"}}}
          - {id: r, type: compute, settings: {columns: {mean: "round(mean, 6)"}}}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: w.in}
          - {from: w.out, to: r.in}
          - {from: r.out, to: out.in}
        """)
    }

    @Test func tumblingAndSlidingWindowsMatchDuckDB() async throws {
        try dir.write("events.csv", (["id,country,amount,at"] + events(1...3_000)).joined(separator: "\n") + "\n")
        let tumbling = try await windowed("tumbling: 15m", output: "tumbling.csv")
        #expect(tumbling.summary.status == .succeeded, "\(tumbling.summary.error ?? "")")
        #expect(tumbling.rejects.map(\.record.code).allSatisfy { $0 == "null_time" } && tumbling.rejects.count == 14, "\(tumbling.rejects.map(\.record.code))")
        #expect(GoldenReference.differences(actual: dir.file("tumbling.csv"), sql: reference(size: 900_000_000, every: 900_000_000, dir.file("events.csv"))) == nil)
        let sliding = try await windowed("sliding: {size: 30m, every: 10m}", output: "sliding.csv")
        #expect(sliding.summary.status == .succeeded, "\(sliding.summary.error ?? "")")
        #expect(GoldenReference.differences(actual: dir.file("sliding.csv"), sql: reference(size: 1_800_000_000, every: 600_000_000, dir.file("events.csv"))) == nil)
    }

    @Test func anIncrementalStreamSplitIntoRunsGivesTheSameWindowsAsOneRun() async throws {
        func sqlite(_ sql: String) throws -> String {
            try runProcess("/usr/bin/sqlite3", [dir.file("data/local.db"), sql]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func insert(_ rows: [String], into table: String) throws {
            let values = rows.map { line -> String in
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                return "(\(f[0]), '\(f[1])', \(f[2].isEmpty ? "NULL" : f[2]), \(f[3].isEmpty ? "NULL" : "'\(f[3])'"))"
            }
            _ = try sqlite("INSERT INTO \(table) VALUES " + values.joined(separator: ", "))
        }
        func sync(_ name: String, from table: String) async throws -> HarnessRun {
            try await harness.run("""
            apiVersion: sluice/v1
            name: \(name)
            nodes:
              - {id: src, type: sqlite.read, settings: {connection: local, table: \(table), mode: incremental, cursor: at, key: [id]}}
              - {id: w, type: window, settings: {partitionBy: [country], time: at, sliding: {size: 30m, every: 10m}, aggregates: {orders: "count(*)", revenue: "sum(amount)", top: "max(amount)"}}}
              - {id: dst, type: sqlite.write, settings: {connection: local, table: \(name)_windows}}
            edges:
              - {from: src.out, to: w.in}
              - {from: w.out, to: dst.in}
            """)
        }
        let schema = "(id INTEGER PRIMARY KEY, country TEXT, amount DECIMAL(10,2), at TIMESTAMP)"
        _ = try sqlite("CREATE TABLE split \(schema); CREATE TABLE whole \(schema)")
        let all = events(1...2_400).filter { !$0.hasSuffix(",") }   // the cursor column: no NULL times here
        // Three runs over the stream as it arrives, in time order.
        for part in [all[0..<700], all[700..<1_650], all[1_650...]] {
            try insert(Array(part), into: "split")
            let run = try await sync("split", from: "split")
            #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        }
        // One run over all of it.
        try insert(all, into: "whole")
        let once = try await sync("whole", from: "whole")
        #expect(once.summary.status == .succeeded, "\(once.summary.error ?? "")")
        let columns = "country, window_start, window_end, orders, revenue, top"
        let split = try sqlite("SELECT \(columns) FROM split_windows ORDER BY country, window_start")
        let whole = try sqlite("SELECT \(columns) FROM whole_windows ORDER BY country, window_start")
        #expect(!whole.isEmpty && split == whole)
        #expect(try sqlite("SELECT count(*) FROM split_windows") == sqlite("SELECT count(*) FROM whole_windows"))
        // The last windows are still open, kept in the state for the next run.
        #expect(try sqlite("SELECT state FROM sluice_state WHERE pipeline = 'split'").contains("\"windows\":[{"))
    }

    @Test func aRowForAWindowAlreadyEmittedIsRejectedAsLate() async throws {
        func sqlite(_ sql: String) throws -> String {
            try runProcess("/usr/bin/sqlite3", [dir.file("data/local.db"), sql]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func sync() async throws -> HarnessRun {
            try await harness.run("""
            apiVersion: sluice/v1
            name: late
            nodes:
              - {id: src, type: sqlite.read, settings: {connection: local, table: ev, mode: incremental, cursor: id}}
              - {id: w, type: window, settings: {time: at, tumbling: 1h, aggregates: {n: "count(*)"}}}
              - {id: dst, type: sqlite.write, settings: {connection: local, table: late_windows}}
            edges:
              - {from: src.out, to: w.in}
              - {from: w.out, to: dst.in}
            """)
        }
        _ = try sqlite("CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMP); INSERT INTO ev VALUES (1, '2026-01-01T10:10:00Z'), (2, '2026-01-01T10:50:00Z'), (3, '2026-01-01T11:20:00Z')")
        #expect(try await sync().summary.status == .succeeded)
        #expect(try sqlite("SELECT window_start, n FROM late_windows") == "2026-01-01T10:00:00Z|2", "only the window that ended is out")
        // Arriving late (the cursor is the id): 10:30 belongs to a window already emitted; 11:40 to the open one.
        _ = try sqlite("INSERT INTO ev VALUES (4, '2026-01-01T10:30:00Z'), (5, '2026-01-01T11:40:00Z'), (6, '2026-01-01T12:05:00Z')")
        let second = try await sync()
        #expect(second.summary.status == .succeeded, "\(second.summary.error ?? "")")
        #expect(second.rejects.map(\.record.code) == ["late_row"], "\(second.rejects.map(\.record.message))")
        #expect(try sqlite("SELECT window_start, n FROM late_windows ORDER BY window_start") == "2026-01-01T10:00:00Z|2\n2026-01-01T11:00:00Z|2")
    }
}
