import Columnar
import Foundation
import NodeKit
@testable import NodesPostgres
import Runtime
import SluiceTestSupport
import Testing

/// Loads send binary COPY when every column's type allows it, else text: both must store the same values.
@Suite struct PostgresBinaryCopyTests {
    let db: PostgresTestDatabase

    init() throws { db = try PostgresTestDatabase(connection: "db") }

    @discardableResult
    func psql(_ sql: String) throws -> String { try db.psql(sql) }

    func copy(_ source: String, to target: String) async throws -> HarnessRun {
        try await db.harness.run("""
        apiVersion: sluice/v1
        name: copy
        nodes:
          - {id: src, type: postgres.read, settings: {connection: db, table: \(source)}}
          - {id: load, type: postgres.write, settings: {connection: db, table: \(target)}}
        edges:
          - {from: src.out, to: load.in}
        """)
    }

    /// Edge values of every binary-encoded type, copied into a table Sluice creates (binary COPY) and into one
    /// whose `tag integer` column needs a cast (text COPY): both hold exactly the source's values.
    @Test func binaryAndTextLoadsStoreTheSameValues() async throws {
        try psql("""
        CREATE TABLE src (tag integer, i bigint, n numeric(18,4), d double precision, tx text, vc varchar(10), b boolean, dt date, tz timestamptz, ts timestamp,
          jb jsonb, j json, by bytea);
        INSERT INTO src VALUES
          (1, 0, 0, '-0', '', 'a', true, '4713-01-01 BC', '0001-01-01 00:00:00+00', '1999-12-31 23:59:59.999999', '{}', '[]', '\\x'),
          (2, -9223372036854775808, -99999999999999.9999, 'NaN', 'ünï "q" \\ back\\slash' || chr(9) || 'tab' || chr(10) || 'nl', 'abc', false, '294276-12-31',
           '1969-12-31 23:59:59.5+00', '2000-01-01 00:00:00', '{"a": [1, 2.5, "x"]}', '{"b": null}', '\\x00ff10'),
          (3, 9223372036854775807, 0.0001, 'Infinity', 'x', 'z', NULL, '2000-01-01', '2000-01-01 00:00:00+00', '1970-01-01 00:00:00', 'null', '"s"', NULL),
          (4, 1, -0.5, '-Infinity', 'y', NULL, true, '1970-01-01', '2262-04-11 23:47:16.854775+00', '0044-03-15 12:00:00', '[1]', '{}', '\\x5c'),
          (5, 2, 10000, 5e-324, 'w', NULL, false, '1969-12-31', '1900-01-01 00:00:00.000001+00', '2038-01-19 03:14:08', '1.5', '2', '\\x'),
          (6, 3, 100000000, 1.7976931348623157e308, 'v', NULL, true, '9999-12-31', '4713-01-01 00:00:00+00 BC', '275760-09-13 23:59:59.999999', '"é"', '3', '\\x00'),
          (7, 4, 12345.6789, 0.1, 'u', NULL, true, '2024-02-29', '2024-03-31 01:00:00+00', '2024-10-27 01:30:00', '{"k": {"n": 1}}', 'true', '\\x01'),
          (8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        CREATE TABLE as_text (tag integer, i bigint, n numeric(18,4), d double precision, tx text, vc text, b boolean, dt date, tz timestamptz, ts timestamptz,
          jb jsonb, j jsonb, by bytea);
        """)
        let created = try await copy("src", to: "as_binary")
        #expect(created.summary.status == .succeeded, "\(created.summary.error ?? "")")
        let cast = try await copy("src", to: "as_text")
        #expect(cast.summary.status == .succeeded, "\(cast.summary.error ?? "")")
        #expect(created.rejects.isEmpty && cast.rejects.isEmpty)
        #expect(try psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'as_binary'::regclass AND attname = 'tag'") == "bigint")

        // The source's values as the loaded tables store them (a timestamp is read as UTC; json loads as jsonb).
        let source = "SELECT tag, i, n, d, tx, vc, b, dt, tz, ts AT TIME ZONE 'UTC', jb, j::jsonb, by FROM src"
        for table in ["as_binary", "as_text"] {
            let loaded = "SELECT tag, i, n, d, tx, vc, b, dt, tz, ts, jb, j, by FROM \(table)"
            let missing = try psql("SET timezone = 'UTC'; (\(source)) EXCEPT ALL (\(loaded))")
            let extra = try psql("SET timezone = 'UTC'; (\(loaded)) EXCEPT ALL (\(source))")
            #expect(missing.isEmpty && extra.isEmpty, "\(table): missing \(missing), extra \(extra)")
        }
        // Spot checks of what EXCEPT treats as equal: the sign of zero and the display scale.
        #expect(try psql("SELECT n::text, d::text FROM as_binary WHERE tag IN (1, 5, 6) ORDER BY tag") == "0.0000|-0\n10000.0000|5e-324\n100000000.0000|1.7976931348623157e+308")
    }

    /// Numerics of 19 to 38 digits read as exact 128-bit decimals (binary COPY out) and load back (binary COPY into a
    /// table Sluice creates, text COPY into one that needs a cast) digit for digit: the largest values, negatives,
    /// zero, the smallest fractions. Sluice's sums and averages equal PostgreSQL's, digit for digit.
    @Test func wideNumericsRoundTripDigitForDigit() async throws {
        try psql("""
        CREATE TABLE wide (tag integer, n numeric(38,10), m numeric(30,0), s numeric(38,37));
        INSERT INTO wide VALUES
          (1, 9999999999999999999999999999.9999999999, 999999999999999999999999999999, 0.1234567890123456789012345678901234567),
          (2, -9999999999999999999999999999.9999999999, -123456789012345678901234567890, -0.0000000000000000000000000000000000001),
          (3, 0, 0, 0),
          (4, 0.0000000001, 1, 0.0001),
          (5, 12345678901234567890.5, 100000000000000000000, 9.9999999999999999999999999999999999999),
          (6, NULL, NULL, NULL),
          (7, 1e27, 10000, -0.5),
          (8, -0.0000100001, -10000000000000000000, 0.0000000000000000001);
        CREATE TABLE wide_text (tag integer, n numeric(38,10), m numeric(30,0), s numeric(38,37));
        """)
        let created = try await copy("wide", to: "wide_binary")
        #expect(created.summary.status == .succeeded, "\(created.summary.error ?? "")")
        let cast = try await copy("wide", to: "wide_text")
        #expect(cast.summary.status == .succeeded, "\(cast.summary.error ?? "")")
        #expect(created.rejects.isEmpty && cast.rejects.isEmpty)
        #expect(try psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'wide_binary'::regclass AND attnum > 0 ORDER BY attnum")
                == "bigint\nnumeric(38,10)\nnumeric(30,0)\nnumeric(38,37)")
        for table in ["wide_binary", "wide_text"] {
            let missing = try psql("(SELECT tag, n::text, m::text, s::text FROM wide) EXCEPT ALL (SELECT tag, n::text, m::text, s::text FROM \(table))")
            #expect(missing.isEmpty, "\(table) lacks \(missing)")
        }

        let summed = try await db.harness.run("""
        apiVersion: sluice/v1
        name: wide-sums
        nodes:
          - {id: src, type: postgres.read, settings: {connection: db, table: wide}}
          - {id: sums, type: aggregate, settings: {aggregates: {n: "sum(n)", m: "sum(m)", s: "sum(s)", mean: "avg(m)"}}}
          - {id: out, type: csv.write, settings: {path: sums.csv}}
        edges:
          - {from: src.out, to: sums.in}
          - {from: sums.out, to: out.in}
        """)
        #expect(summed.summary.status == .succeeded, "\(summed.summary.error ?? "")")
        // avg keeps 6 places exactly; PostgreSQL's avg keeps 16 significant digits (none after the point for a
        // 30-digit mean), so the exact mean is computed at 6 places for the comparison.
        let expected = try psql("SELECT sum(n), sum(m), sum(s), (sum(m)::numeric(60,6) / count(m))::numeric(60,6) FROM wide").replacingOccurrences(of: "|", with: ",")
        let written = try String(contentsOfFile: db.dir.file("sums.csv"), encoding: .utf8)
        #expect(written == "n,m,s,mean\n\(expected)\n", "\(written)")
    }

    /// Rows the server refuses in a binary COPY (a constraint, a numeric that overflows its column) are rejected
    /// with the server's reason and their row numbers; the others load.
    @Test func refusedRowsOfABinaryCopyAreRejected() async throws {
        try psql("""
        CREATE TABLE src (id bigint, amount numeric(10,2), note text);
        INSERT INTO src SELECT g, CASE WHEN g = 2500 THEN 1000 ELSE g / 100.0 END, CASE WHEN g % 1000 = 0 THEN NULL ELSE 'n' || g END
          FROM generate_series(1, 5000) g;
        CREATE TABLE dst (id bigint PRIMARY KEY, amount numeric(5,2), note text NOT NULL);
        """)
        let run = try await copy("src", to: "dst")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.rejects.compactMap(\.record.row) == [999, 1999, 2499, 2999, 3999, 4999])
        #expect(run.rejects.allSatisfy { $0.record.code == "rejected_by_database" })
        #expect(run.rejects.filter { $0.record.message.contains("null value in column \"note\"") }.count == 5)
        #expect(run.rejects[2].record.message.contains("numeric field overflow"), "\(run.rejects[2].record.message)")
        #expect(try psql("SELECT count(*), sum(id) FROM dst WHERE amount = id / 100.0 AND note = 'n' || id") == "4994|\(5000 * 5001 / 2 - 17500)")
    }

    /// Query parameters and incremental cursors travel inline: every value type reads back as itself.
    @Test func inlineLiteralsReadBackAsTheSameValues() throws {
        let values: [(Value, String)] = [
            (.bytes([0, 255, 92]), "\\x00ff5c"), (.timestamp(CivilTime.days(year: -4712, month: 1, day: 1) * CivilTime.microsPerDay + 1), "4713-01-01 00:00:00.000001+00 BC"),
            (.date(CivilTime.days(year: 2024, month: 2, day: 29)), "2024-02-29"), (.float(.nan), "NaN"), (.float(-.infinity), "-Infinity"), (.float(0.1), "0.1"),
            (.decimal(-12_345, scale: 2), "-123.45"), (.string("it's \\ x"), "it's \\ x"), (.json(#"{"a": 1}"#), #"{"a": 1}"#), (.bool(true), "true"),
            (.int(.min), "-9223372036854775808"), (.null, ""),
        ]
        let select = values.map { "(\(PostgresValues.literal($0.0)))::text" }.joined(separator: ", ")
        #expect(try psql("SET timezone = 'UTC'; SELECT \(select)") == values.map(\.1).joined(separator: "|"))
    }

    @Test func theFormatIsBinaryOnlyWhenEveryColumnHasAnExactBinaryForm() {
        func column(_ name: String, _ oid: UInt32, _ formatted: String = "") -> PostgresColumn {
            PostgresColumn(name: name, oid: oid, typmod: -1, formatted: formatted, notNull: false)
        }
        let schema = Schema([SchemaField("a", .int64), SchemaField("b", .string), SchemaField("c", .decimal(precision: 12, scale: 3))])
        #expect(PostgresCopyFormat.choose(schema, into: [column("c", 1700), column("a", 20), column("b", 25)]) == .binary([.int8, .text, .numeric(scale: 3)]))
        #expect(PostgresCopyFormat.choose(schema, into: [column("a", 23), column("b", 25), column("c", 1700)]) == .text) // int64 into integer
        #expect(PostgresCopyFormat.choose(schema, into: [column("a", 20), column("b", 2950), column("c", 1700)]) == .text) // string into uuid
        #expect(PostgresCopyFormat.choose(schema, into: [column("a", 20), column("b", 25, "text[]"), column("c", 1700)]) == .text)
        #expect(PostgresCopyFormat.choose(schema, into: [column("a", 20), column("b", 25)]) == .text) // no such column
    }

    @Test func outOfRangeDaysAndInstantsNeverBecomeInfinities() {
        #expect(PostgresCopyFormat.postgresDate(Int64(Int32.max) + PostgresTypes.epochOffsetDays) == Int32.max - 1)
        #expect(PostgresCopyFormat.postgresDate(Int64(Int32.min) + PostgresTypes.epochOffsetDays) == Int32.max - 1)
        #expect(PostgresCopyFormat.postgresDate(PostgresTypes.epochOffsetDays) == 0)
        #expect(PostgresCopyFormat.postgresTimestamp(.min) == .max - 1)
        #expect(PostgresCopyFormat.postgresTimestamp(PostgresTypes.epochOffsetMicros) == 0)
    }
}
