import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import NodesPostgres
import Testing

/// postgres.read and postgres.write against the run's throwaway PostgreSQL 15 cluster.
@Suite struct PostgresTests {
    let dir: TemporaryDirectory
    let database: String
    let harness: PipelineHarness
    static let secret = "never-print-me-\(UUID().uuidString)"

    init() throws {
        dir = try TemporaryDirectory()
        database = try PostgresTestServer.createDatabase()
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        warehouse: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: postgres, password: "${env:WAREHOUSE_PASSWORD}", sslmode: disable}
        down: {type: postgres, host: 127.0.0.1, port: 1, database: nowhere, user: loader, password: "${env:WAREHOUSE_PASSWORD}", sslmode: disable}
        """, environment: ["WAREHOUSE_PASSWORD": Self.secret])
    }

    @discardableResult
    func psql(_ sql: String) throws -> String { try PostgresTestServer.psql(database, sql) }

    func load(_ csv: String, table: String, settings: String = "", csvSettings: String = "") async throws -> HarnessRun {
        try dir.write("in.csv", csv)
        return try await harness.run("""
        apiVersion: sluice/v1
        name: load
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv\(csvSettings)}}
          - {id: load, type: postgres.write, settings: {connection: warehouse, table: '\(table)'\(settings)}}
        edges:
          - {from: src.out, to: load.in}
        """)
    }

    func read(_ settings: String) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: read
        nodes:
          - {id: src, type: postgres.read, settings: {connection: warehouse, \(settings)}}
          - {id: last, type: limit, settings: {count: 1000000}}
        edges:
          - {from: src.out, to: last.in}
        """, preview: "last", previewLimit: 1_000_000)
    }

    static func noSecret(in run: HarnessRun) -> Bool {
        let text = "\(run.summary) \(run.events.events) \(run.rejects.map(\.jsonLine))"
        return !text.contains(secret)
    }

    @Test func everyMappedTypeReadsWithNullsAndEdgeValues() async throws {
        try psql("""
        CREATE TABLE t (i2 smallint, i4 integer, i8 bigint, n numeric(12,3), nu numeric, r real, d double precision, tx text, vc varchar(10), ch char(3),
          b boolean, dt date, ts timestamp, tz timestamptz, j json, jb jsonb, u uuid, by bytea, ia integer[], ta text[], iv interval);
        SET timezone = 'Europe/Berlin';
        INSERT INTO t VALUES (-32768, 2147483647, -9223372036854775808, -123456789.125, 1.5, 1.25, 'NaN', 'ünï "q" \t tab', 'abc', 'x',
          true, '4713-01-01 BC', '1999-12-31 23:59:59.999999', '2024-03-31 02:30:00+02', '{"a": [1, 2]}', '{"b": null}',
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '{1,NULL,3}', '{"a","b c"}', '1 day 2 hours');
        INSERT INTO t VALUES (NULL, NULL, NULL, NULL, NULL, NULL, 'Infinity', NULL, NULL, NULL, false, '294276-12-31', NULL, '2024-10-27 02:30:00+01', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO t (i8, d) VALUES (1, '-Infinity');
        """)
        let run = try await read("table: t")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let schema = try #require(run.result.preview.first?.schema)
        #expect(schema.fields.map(\.type) == [.int64, .int64, .int64, .decimal(precision: 12, scale: 3), .float64, .float64, .float64, .string, .string, .string,
                                              .bool, .date, .timestamp, .timestamp, .json, .json, .string, .bytes, .json, .json, .string])
        let values = rows(run.result.preview)
        let first = values[0]
        #expect(first[0] == .int(-32768) && first[1] == .int(2_147_483_647) && first[2] == .int(.min))
        #expect(first[3] == .decimal(-123_456_789_125, scale: 3) && first[4] == .float(1.5) && first[5] == .float(1.25))
        if case let .float(d) = first[6] { #expect(d.isNaN) } else { Issue.record("NaN expected") }
        #expect(first[7] == .string("ünï \"q\" \t tab") && first[8] == .string("abc") && first[9] == .string("x  "))
        #expect(first[10] == .bool(true))
        #expect(first[11] == .date(CivilTime.days(year: -4712, month: 1, day: 1)))
        #expect(first[12] == .timestamp(CivilTime.parseTimestamp("1999-12-31T23:59:59.999999Z")!))
        #expect(first[13] == .timestamp(CivilTime.parseTimestamp("2024-03-31T00:30:00Z")!))
        #expect(first[14] == .json(#"{"a": [1, 2]}"#) && first[15] == .json(#"{"b": null}"#))
        #expect(first[16] == .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") && first[17] == .bytes([0, 255, 16]))
        #expect(first[18] == .json("[1,null,3]") && first[19] == .json(#"["a","b c"]"#) && first[20] == .string("1 day 02:00:00"))
        #expect(values[1][6] == .float(.infinity) && values[2][6] == .float(-.infinity))
        #expect(values[1][11] == .date(CivilTime.days(year: 294_276, month: 12, day: 31)))
        #expect(values[1][13] == .timestamp(CivilTime.parseTimestamp("2024-10-27T01:30:00Z")!))
        #expect(values[1].enumerated().filter { [0, 3, 7, 14, 16, 18, 20].contains($0.offset) }.allSatisfy { $0.element.isNull })
    }

    @Test func writesRoundTripThroughCOPY() async throws {
        let csv = #"""
        id,name,amount,price,ok,day,at,doc
        1,"tab	and \ backslash",1.5,12.34,true,2024-02-29,2024-03-10T01:30:00.25Z,"{""a"":1}"
        2,"line
        break ""q""",-0.25,-0.01,false,0001-01-01,1969-12-31T23:59:59Z,[]
        3,,,,,,,

        """#
        let run = try await load(csv, table: "loaded", csvSettings: ", schema: {price: 'decimal(10,2)', doc: json}")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'loaded'::regclass AND attnum > 0 ORDER BY attnum")
            .split(separator: "\n") == ["bigint", "text", "double precision", "numeric(10,2)", "boolean", "date", "timestamp with time zone", "jsonb"])
        #expect(try psql("SELECT name FROM loaded WHERE id = 1") == "tab\tand \\ backslash")
        #expect(try psql("SELECT price, day, at AT TIME ZONE 'UTC', doc->>'a' FROM loaded WHERE id = 1") == "12.34|2024-02-29|2024-03-10 01:30:00.25|1")
        #expect(try psql("SELECT count(*) FILTER (WHERE name IS NULL AND amount IS NULL AND doc IS NULL) FROM loaded") == "1")
        let back = try await read("table: loaded")
        let values = rows(back.result.preview)
        #expect(values.count == 3)
        #expect(values[1][1] == .string("line\nbreak \"q\""))
        #expect(values[1][5] == .date(CivilTime.days(year: 1, month: 1, day: 1)))
        #expect(Self.noSecret(in: run) && Self.noSecret(in: back))
    }

    @Test func oddIdentifiersAreQuotedEverywhere() async throws {
        let run = try await load("\"Order Id\",\"say \"\"hi\"\"\",Ünïcode\n1,x,y\n", table: "\"My Schema\".\"Order.Lines\"", settings: ", mode: merge, key: ['Order Id']")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try psql(#"SELECT "Order Id", "say ""hi""", "Ünïcode" FROM "My Schema"."Order.Lines""#) == "1|x|y")
        let back = try await read("table: '\"My Schema\".\"Order.Lines\"'")
        #expect(rows(back.result.preview) == [[.int(1), .string("x"), .string("y")]])
    }

    @Test func appendReplaceMergeAndCreate() async throws {
        #expect(try await load("id,v\n1,a\n2,b\n", table: "m", settings: ", key: [id]").summary.status == .succeeded)
        #expect(try await load("id,v\n3,c\n", table: "m").summary.status == .succeeded)
        #expect(try psql("SELECT string_agg(v, '' ORDER BY id) FROM m") == "abc")
        #expect(try await load("id,v\n2,B\n4,d\n", table: "m", settings: ", mode: merge, key: [id]").summary.status == .succeeded)
        #expect(try psql("SELECT string_agg(v, '' ORDER BY id) FROM m") == "aBcd")
        #expect(try await load("id,v\n9,z\n", table: "m", settings: ", mode: replace").summary.status == .succeeded)
        #expect(try psql("SELECT string_agg(id || v, ',') FROM m") == "9z")
        let create = try await load("id,v\n1,a\n", table: "m", settings: ", mode: create")
        #expect(create.summary.status == .failed && create.summary.error?.contains("already exists") == true)
        try psql("CREATE TABLE nokey (id bigint, v text)")
        let merge = try await load("id,v\n1,a\n", table: "nokey", settings: ", mode: merge, key: [id]")
        #expect(merge.summary.status == .failed)
        #expect(merge.summary.error?.contains("primary key or unique constraint on (id)") == true)
    }

    /// One batch, and many small batches that one COPY spans (the refused rows sit in different batches of
    /// the span: the span is redone batch by batch and only the refused rows are rejected, numbered as before).
    @Test(arguments: ["", ", batchRows: 300"])
    func refusedRowsAreRejectedWithTheServersReason(batching: String) async throws {
        try psql("CREATE TABLE u (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, qty integer CHECK (qty > 0))")
        var csv = "id,email,qty\n"
        for i in 1...2000 { csv += i == 500 ? "\(i),dup@x,1\n" : i == 501 ? "\(i),dup@x,1\n" : i == 900 ? "\(i),,1\n" : i == 1500 ? "\(i),q@x,-1\n" : "\(i),u\(i)@x,\(i)\n" }
        let run = try await load(csv, table: "u", csvSettings: ", schema: {email: string}\(batching)")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.rejects.compactMap(\.record.row) == [500, 899, 1499])
        #expect(run.rejects.map(\.record.code).allSatisfy { $0 == "rejected_by_database" })
        #expect(run.rejects[0].record.message.contains("duplicate key") && run.rejects[1].record.message.contains("null value"))
        #expect(try psql("SELECT count(*) FROM u") == "1997")
    }

    @Test func aRetriedRunThatAlreadyCommittedWritesNothing() async throws {
        try dir.write("in.csv", "n\n1\n2\n")
        let document = """
        apiVersion: sluice/v1
        name: retry
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: load, type: postgres.write, settings: {connection: warehouse, table: retried}}
        edges:
          - {from: src.out, to: load.in}
        """
        // The same run id twice: a worker died after the commit, and the run was retried elsewhere.
        let first = try await harness.run(document, runID: "run-retried")
        let retry = try await harness.run(document, runID: "run-retried")
        #expect(first.summary.status == .succeeded && retry.summary.status == .succeeded)
        #expect(retry.events.logs.contains { $0.message.contains("already committed") })
        #expect(try psql("SELECT count(*) FROM retried") == "2")
        // Another run appends again.
        #expect(try await harness.run(document).summary.status == .succeeded)
        #expect(try psql("SELECT count(*) FROM retried") == "4")
    }

    /// A sink that needs no more rows (its run already committed) closes its input: the PostgreSQL source
    /// reading a large table ends normally instead of failing the run.
    @Test func aSourceWhoseSinkAlreadyCommittedEndsNormally() async throws {
        try psql("CREATE TABLE big AS SELECT n FROM generate_series(1, 200000) AS n")
        let document = """
        apiVersion: sluice/v1
        name: copy-big
        nodes:
          - {id: src, type: postgres.read, settings: {connection: warehouse, table: big}}
          - {id: load, type: postgres.write, settings: {connection: warehouse, table: big_copy}}
        edges:
          - {from: src.out, to: load.in}
        """
        let first = try await harness.run(document, runID: "run-copied")
        let retry = try await harness.run(document, runID: "run-copied")
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        #expect(retry.summary.status == .succeeded, "\(retry.summary.error ?? "")")
        #expect(try psql("SELECT count(*) FROM big_copy") == "200000")
    }

    @Test func aFailedRunLeavesTheTargetUntouched() async throws {
        _ = try await load("n\n1\n2\n", table: "f")
        try dir.write("in.csv", "n\n5\n0\n7\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: fail
        settings: {onRecordError: fail}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: calc, type: compute, settings: {columns: {n: "10 / n"}}}
          - {id: load, type: postgres.write, settings: {connection: warehouse, table: f, mode: replace}}
        edges:
          - {from: src.out, to: calc.in}
          - {from: calc.out, to: load.in}
        """)
        #expect(run.summary.status == .failed)
        #expect(try psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM f") == "1,2")
        #expect(try psql("SELECT count(*) FROM pg_class WHERE relname LIKE '%sluice%' AND relname NOT LIKE '%sluice_commits%'") == "0")
    }

    @Test func queriesWithParameters() async throws {
        try psql("CREATE TABLE o (id int, amount numeric(8,2), note text); INSERT INTO o VALUES (1, 10, 'a:b'), (2, 60, 'x'), (3, 80, NULL)")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: q
        parameters: {min: {type: int64, default: 50}}
        nodes:
          - {id: src, type: postgres.read, settings: {connection: warehouse, query: "SELECT id, amount * 2 AS twice, 'it''s :not' AS lit, amount::text AS t FROM o WHERE amount > :min ORDER BY id", parameters: {min: "${min}"}}}
          - {id: last, type: limit, settings: {count: 10}}
        edges:
          - {from: src.out, to: last.in}
        """, parameters: ["min": "55"], preview: "last")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.result.preview.first?.schema.fields.map(\.type) == [.int64, .float64, .string, .string])
        #expect(rows(run.result.preview) == [[.int(2), .float(120), .string("it's :not"), .string("60.00")], [.int(3), .float(160), .string("it's :not"), .string("80.00")]])
    }

    @Test func discoveryListsTablesColumnsTypesAndKeys() async throws {
        try psql("CREATE SCHEMA s; CREATE TABLE s.orders (id bigint, line int, amount numeric(10,2) NOT NULL, note text, PRIMARY KEY (line, id)); CREATE VIEW s.v AS SELECT id FROM s.orders")
        let tables = try await PostgresConnector.discover(harness.connections.connections["warehouse"]!, schema: "s")
        #expect(tables.map(\.name) == ["orders", "v"])
        let orders = tables[0]
        #expect(orders.primaryKey == ["line", "id"])
        #expect(orders.columns.map(\.databaseType) == ["bigint", "integer", "numeric(10,2)", "text"])
        #expect(orders.columns.map(\.type) == [.int64, .int64, .decimal(precision: 10, scale: 2), .string])
        #expect(orders.columns.map(\.nullable) == [false, false, false, true])
    }

    @Test func unreachableServersFailWithARetryableErrorThatNamesThemButNotThePassword() async throws {
        try dir.write("in.csv", "n\n1\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: down
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: load, type: postgres.write, settings: {connection: down, table: t}, retry: {attempts: 2, backoff: 1ms}}
        edges:
          - {from: src.out, to: load.in}
        """)
        #expect(run.summary.status == .failed)
        let error = run.summary.error ?? ""
        #expect(error.contains("127.0.0.1:1") && error.contains("database nowhere") && error.contains("user loader"), "\(error)")
        #expect(run.events.events.contains { if case .nodeRetrying = $0 { true } else { false } })
        #expect(Self.noSecret(in: run))
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: down
        nodes:
          - {id: src, type: postgres.read, settings: {connection: down, table: t}}
        edges: []
        """)
        #expect(problems.first?.code == "database_error")
        #expect(problems.first.map { !"\($0)".contains(Self.secret) } == true)
    }
}
