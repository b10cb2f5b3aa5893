import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Incremental sync from PostgreSQL with the cursor committed in the destination with the data.
@Suite struct IncrementalTests {
    let db: PostgresTestDatabase
    var harness: PipelineHarness { db.harness }

    init() throws {
        db = try PostgresTestDatabase(connection: "warehouse")
        try psql("""
        CREATE TABLE src (id bigint PRIMARY KEY, v text, updated_at timestamptz);
        CREATE SCHEMA dw;
        """)
    }

    @discardableResult
    func psql(_ sql: String) throws -> String { try db.psql(sql) }

    func sync(_ extra: String = "", sink: String = "{connection: warehouse, table: dw.dst, mode: merge, key: [id]}", batchRows: Int = 3) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: sync
        nodes:
          - {id: orders, type: postgres.read, settings: {connection: warehouse, table: src, mode: incremental, cursor: updated_at, key: [id], batchRows: \(batchRows)\(extra)}}
          - {id: load, type: postgres.write, settings: \(sink)}
        edges:
          - {from: orders.out, to: load.in}
        """)
    }

    var stored: String { (try? psql("SELECT state FROM sluice_state WHERE pipeline = 'sync' AND node = 'orders'")) ?? "" }

    @Test func newAndUpdatedRowsAreReadExactlyOnce() async throws {
        try psql("INSERT INTO src SELECT g, 'v' || g, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, 10) g")
        let first = try await sync()
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        #expect(first.summary.counts("orders")?.recordsOut == 10)
        #expect(stored.contains("2024-01-01T00:10:00Z") && stored.contains("\"10\""))
        let idle = try await sync()
        #expect(idle.summary.counts("orders")?.recordsOut == 0)
        try psql("INSERT INTO src VALUES (11, 'new', '2024-01-01 00:20:00+00'); UPDATE src SET v = 'changed', updated_at = '2024-01-01 00:30:00+00' WHERE id = 3")
        let second = try await sync()
        #expect(second.summary.counts("orders")?.recordsOut == 2)
        #expect(try psql("SELECT count(*), count(*) FILTER (WHERE v = 'changed') FROM dw.dst") == "11|1")
    }

    @Test func rowsSharingACursorValueAcrossBatchesAreNeitherSkippedNorRepeated() async throws {
        try psql("INSERT INTO src SELECT g, 'v', '2024-05-01 12:00:00+00' FROM generate_series(1, 8) g")
        _ = try await sync(sink: "{connection: warehouse, table: dw.dst}") // append: duplicates would show
        try psql("INSERT INTO src SELECT g, 'w', '2024-05-01 12:00:00+00' FROM generate_series(9, 14) g")
        let second = try await sync(sink: "{connection: warehouse, table: dw.dst}")
        #expect(second.summary.counts("orders")?.recordsOut == 6)
        #expect(try psql("SELECT count(*), count(DISTINCT id) FROM dw.dst") == "14|14")
    }

    @Test func nullCursorsAreReadEveryTimeOrRejected() async throws {
        try psql("INSERT INTO src VALUES (1, 'a', '2024-01-01'), (2, 'b', NULL)")
        let first = try await sync()
        #expect(first.summary.counts("orders")?.recordsOut == 2)
        let again = try await sync()
        #expect(again.summary.counts("orders")?.recordsOut == 1) // the NULL-cursor row, merged again
        #expect(try psql("SELECT count(*) FROM dw.dst") == "2")
        let rejecting = try await sync(", nullCursor: reject")
        #expect(rejecting.rejects.map(\.record.code) == ["null_cursor"])
    }

    @Test func stateIsOnlySavedWhenTheDataCommitted() async throws {
        try psql("INSERT INTO src SELECT g, 'v', '2024-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 5) g")
        try psql("CREATE TABLE dw.strict (id bigint PRIMARY KEY, v text CHECK (v <> 'v'), updated_at timestamptz)")
        let failed = try await sync(sink: "{connection: warehouse, table: dw.strict}")
        #expect(failed.summary.status == .failed) // every row refused: a whole-batch failure
        #expect(stored.isEmpty)
        try psql("ALTER TABLE dw.strict DROP CONSTRAINT strict_v_check")
        let retried = try await sync(sink: "{connection: warehouse, table: dw.strict}")
        #expect(retried.summary.status == .succeeded)
        #expect(try psql("SELECT count(*) FROM dw.strict") == "5")
    }

    @Test func lookbackCatchesLateCommits() async throws {
        try psql("INSERT INTO src VALUES (1, 'a', '2024-01-01 10:00:00+00'), (2, 'b', '2024-01-01 11:00:00+00')")
        _ = try await sync(", lookback: '30 minutes'")
        // A transaction that committed late with an older timestamp.
        try psql("INSERT INTO src VALUES (3, 'late', '2024-01-01 10:45:00+00')")
        let withoutLookback = try await sync()
        #expect(withoutLookback.summary.counts("orders")?.recordsOut == 0)
        let withLookback = try await sync(", lookback: '30 minutes'")
        #expect(withLookback.summary.counts("orders")?.recordsOut == 2) // row 2 again (merged) and the late row 3
        #expect(try psql("SELECT string_agg(v, ',' ORDER BY id) FROM dw.dst") == "a,b,late")
    }

    @Test func rowsWrittenWhileASyncIsReadingAreNeitherSkippedNorDoubled() async throws {
        let rows = 100_000
        try psql("INSERT INTO src SELECT g, 'v', '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, \(rows)) g")
        let reading = Task { try await sync(batchRows: 500) }
        // Wait until the read is in flight, then write: new rows after every cursor, and an update of a row
        // the sync has probably read already (its cursor moves past the end).
        let finder = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%FROM \"src\"%' AND pid <> pg_backend_pid()"
        var polls = 0
        while try psql(finder) == "0", polls < 2000 {
            polls += 1
            try await Task.sleep(for: .milliseconds(2))
        }
        try psql("""
            INSERT INTO src SELECT g, 'late', '2030-01-01'::timestamptz + g * interval '1 second' FROM generate_series(\(rows + 1), \(rows + 50)) g;
            UPDATE src SET v = 'changed', updated_at = '2031-01-01' WHERE id = 1;
            """)
        let stillReading = try psql(finder) != "0"
        let first = try await reading.value
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        #expect(stillReading, "the writes landed after the read finished; the test needs a slower read")
        // The first sync read one consistent snapshot: exactly the rows that existed when it started.
        #expect(first.summary.counts("orders")?.recordsOut == Int(rows))
        let second = try await sync(batchRows: 500)
        #expect(second.summary.counts("orders")?.recordsOut == 51, "the 50 new rows and the updated one")
        #expect(try psql("SELECT count(*), count(*) FILTER (WHERE v = 'late'), count(*) FILTER (WHERE v = 'changed') FROM dw.dst") == "\(rows + 50)|50|1")
        #expect(try await sync(batchRows: 500).summary.counts("orders")?.recordsOut == 0)
    }
}
