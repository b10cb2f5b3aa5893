import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import NodesSQLite
import Testing

/// sqlite.read and sqlite.write against real database files.
@Suite struct SQLiteTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = try PipelineHarness(directory: dir, connectionsYAML: "local: {type: sqlite, path: data/local.db}\n")
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
    }

    func sqlite(_ sql: String) throws -> String {
        try runProcess("/usr/bin/sqlite3", [dir.file("data/local.db"), sql]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func load(_ csv: String, table: String, settings: String = "", csvSettings: String = "") async throws -> HarnessRun {
        try dir.write("in.csv", csv)
        return try await harness.run("""
        apiVersion: sluice/v1
        name: load
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv\(csvSettings)}}
          - {id: load, type: sqlite.write, settings: {connection: local, table: '\(table)'\(settings)}}
        edges:
          - {from: src.out, to: load.in}
        """)
    }

    /// The first rows of `table`, read back by `sqlite.read`.
    func readBack(_ table: String) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: back
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: local, table: \(table)}}
          - {id: last, type: limit, settings: {count: 10}}
        edges:
          - {from: src.out, to: last.in}
        """, preview: "last")
    }

    @Test func typesRoundTripThroughATable() async throws {
        let csv = #"""
        id,name,amount,price,ok,day,at,doc
        1,Ann,1.5,12.34,true,2024-02-29,2024-03-10T01:30:00.25Z,"{""a"":1}"
        2,"Bö ""quoted""",-0.25,-0.01,false,1900-01-01,1969-12-31T23:59:59Z,[]
        3,,,,,,,

        """#
        let run = try await load(csv, table: "things", csvSettings: ", schema: {price: 'decimal(10,2)', doc: json}")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try sqlite("SELECT typeof(id), typeof(amount), typeof(day) FROM things LIMIT 1") == "integer|real|text")
        let back = try await readBack("things")
        #expect(back.result.preview.first?.schema.fields.map(\.type) == [.int64, .string, .float64, .decimal(precision: 10, scale: 2), .bool, .date, .timestamp, .json])
        let values = rows(back.result.preview)
        #expect(values[0] == [.int(1), .string("Ann"), .float(1.5), .decimal(1234, scale: 2), .bool(true), .date(CivilTime.parseDate("2024-02-29")!),
                              .timestamp(CivilTime.parseTimestamp("2024-03-10T01:30:00.25Z")!), .json(#"{"a":1}"#)])
        #expect(values[1][1] == .string("Bö \"quoted\""))
        #expect(values[2].dropFirst().allSatisfy { $0.isNull })
    }

    /// Decimals of 19 to 38 digits keep every digit through a table Sluice creates (TEXT affinity: SQLite's NUMERIC
    /// affinity would keep 15), and read back as the same decimals.
    @Test func wideDecimalsKeepEveryDigit() async throws {
        let values = ["9999999999999999999999999999.9999999999", "-0.0000000001", "12345678901234567890.1234567890", "0.0000000000"]
        let run = try await load("id,v\n" + values.enumerated().map { "\($0.offset),\($0.element)" }.joined(separator: "\n") + "\n",
                                 table: "wide", csvSettings: ", schema: {v: 'decimal(38,10)'}")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try sqlite("SELECT group_concat(v, ' ') FROM (SELECT v FROM wide ORDER BY id)") == values.joined(separator: " "))
        #expect(try sqlite("SELECT type FROM pragma_table_info('wide') WHERE name = 'v'") == "DECIMAL_TEXT(38,10)")
        let back = try await readBack("wide")
        #expect(back.result.preview.first?.schema.fields.map(\.type) == [.int64, .decimal(precision: 38, scale: 10)])
        #expect(rows(back.result.preview).map { $0[1].description } == values)
    }

    @Test func oddNamesAreQuotedEverywhere() async throws {
        let run = try await load("\"Order Id\",\"say \"\"hi\"\"\",Ünïcode\n1,x,y\n", table: "\"My \"\"Table\"\"\"", settings: ", mode: merge, key: ['Order Id']")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try sqlite(#"SELECT "Order Id", "say ""hi""", "Ünïcode" FROM "My ""Table""""#) == "1|x|y")
    }

    @Test func appendReplaceMergeAndCreate() async throws {
        #expect(try await load("id,v\n1,a\n2,b\n", table: "t", settings: ", key: [id]").summary.status == .succeeded)
        #expect(try await load("id,v\n3,c\n", table: "t").summary.status == .succeeded)
        #expect(try sqlite("SELECT group_concat(v, '') FROM (SELECT v FROM t ORDER BY id)") == "abc")
        #expect(try await load("id,v\n2,B\n4,d\n", table: "t", settings: ", mode: merge, key: [id]").summary.status == .succeeded)
        #expect(try sqlite("SELECT group_concat(v, '') FROM (SELECT v FROM t ORDER BY id)") == "aBcd")
        #expect(try await load("id,v\n9,z\n", table: "t", settings: ", mode: replace").summary.status == .succeeded)
        #expect(try sqlite("SELECT group_concat(id || v, ',') FROM t") == "9z")
        let create = try await load("id,v\n1,a\n", table: "t", settings: ", mode: create")
        #expect(create.summary.status == .failed)
        #expect(create.summary.error?.contains("already exists") == true)
        #expect(try sqlite("SELECT count(*) FROM t") == "1")
    }

    @Test func constraintViolationsAreRejectedNotFatal() async throws {
        _ = try sqlite("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
        let run = try await load("id,email\n1,a@x\n2,a@x\n3,\n4,d@x\n", table: "u")
        #expect(run.summary.status == .succeeded)
        #expect(run.rejects.map(\.record.code) == ["constraint_violation", "constraint_violation"])
        #expect(run.rejects.first?.record.message.contains("UNIQUE") == true)
        #expect(try sqlite("SELECT group_concat(id) FROM u") == "1,4")
    }

    @Test func schemaDriftPolicies() async throws {
        _ = try await load("id,v\n1,a\n", table: "d")
        let frozen = try await load("id,v,extra\n2,b,x\n", table: "d", settings: ", schemaDrift: freeze")
        #expect(frozen.summary.status == .failed)
        #expect(frozen.summary.error?.contains("+extra string") == true)
        #expect(try await load("id,v,extra\n3,c,x\n", table: "d", settings: ", schemaDrift: discard").summary.status == .succeeded)
        #expect(try sqlite("SELECT count(*) FROM pragma_table_info('d')") == "2")
        #expect(try await load("id,v,extra\n4,d,y\n", table: "d", settings: ", schemaDrift: evolve").summary.status == .succeeded)
        #expect(try sqlite("SELECT group_concat(coalesce(extra, '-'), '') FROM (SELECT extra FROM d ORDER BY id)") == "--y")
    }

    @Test func aRetriedRunThatAlreadyCommittedWritesNothing() async throws {
        try dir.write("in.csv", "n\n1\n2\n")
        let document = """
        apiVersion: sluice/v1
        name: retry
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: load, type: sqlite.write, settings: {connection: local, table: retried}}
        edges:
          - {from: src.out, to: load.in}
        """
        // The same run id twice: a worker died after the commit, and the run was retried elsewhere.
        let first = try await harness.run(document, runID: "run-retried")
        let retry = try await harness.run(document, runID: "run-retried")
        #expect(first.summary.status == .succeeded && retry.summary.status == .succeeded)
        #expect(retry.events.logs.contains { $0.message.contains("already committed") })
        #expect(try sqlite("SELECT count(*) FROM retried") == "2")
        // Another run appends again.
        #expect(try await harness.run(document).summary.status == .succeeded)
        #expect(try sqlite("SELECT count(*) FROM retried") == "4")
    }

    @Test func aFailedRunLeavesTheTableUntouched() async throws {
        _ = try await load("n\n1\n", table: "f")
        try dir.write("in.csv", "n\n5\n0\n7\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: fail
        settings: {onRecordError: fail}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: calc, type: compute, settings: {columns: {n: "10 / n"}}}
          - {id: load, type: sqlite.write, settings: {connection: local, table: f, mode: replace}}
        edges:
          - {from: src.out, to: calc.in}
          - {from: calc.out, to: load.in}
        """)
        #expect(run.summary.status == .failed)
        #expect(try sqlite("SELECT group_concat(n) FROM f") == "1")
        #expect(try sqlite("SELECT count(*) FROM sqlite_master WHERE name LIKE '%sluice%' AND name NOT LIKE '%sluice_commits%'") == "0")
    }

    @Test func queriesTakeBoundParameters() async throws {
        _ = try await load("id,amount\n1,10\n2,60\n3,80\n", table: "o")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: q
        parameters: {min: {type: int64, default: 50}}
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: local, query: "SELECT id, amount * 2 AS twice FROM o WHERE amount > :min ORDER BY id", parameters: {min: "${min}"}}}
          - {id: last, type: limit, settings: {count: 10}}
        edges:
          - {from: src.out, to: last.in}
        """, parameters: ["min": "55"], preview: "last")
        #expect(rows(run.result.preview) == [[.int(2), .int(120)], [.int(3), .int(160)]])
    }

    @Test func discoveryListsTablesColumnsTypesAndKeys() async throws {
        _ = try sqlite("CREATE TABLE a (id INTEGER, k TEXT NOT NULL, at TIMESTAMP, PRIMARY KEY (k, id)); CREATE VIEW b AS SELECT id FROM a")
        let tables = try await SQLiteConnector.discover(harness.connections.connections["local"]!, schema: nil)
        #expect(tables.map(\.name) == ["a", "b"])
        #expect(tables[0].primaryKey == ["k", "id"])
        #expect(tables[0].columns.map(\.type) == [.int64, .string, .timestamp])
        #expect(tables[0].columns.map(\.nullable) == [true, false, true])
    }

    @Test func incrementalReadsResumeFromTheCursorCommittedWithTheData() async throws {
        _ = try sqlite("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated_at TIMESTAMP); " +
                       "INSERT INTO src VALUES (1, 'a', '2024-01-01T00:00:00Z'), (2, 'b', '2024-01-01T00:00:00Z'), (3, 'c', '2024-01-01T00:00:00Z'), (4, 'n', NULL)")
        let sync = { () async throws -> HarnessRun in
            try await self.harness.run("""
            apiVersion: sluice/v1
            name: sync
            nodes:
              - {id: src, type: sqlite.read, settings: {connection: local, table: src, mode: incremental, cursor: updated_at, key: [id], batchRows: 2}}
              - {id: dst, type: sqlite.write, settings: {connection: local, table: dst, mode: merge, key: [id]}}
            edges:
              - {from: src.out, to: dst.in}
            """)
        }
        let first = try await sync()
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        #expect(first.summary.counts("src")?.recordsOut == 4)
        #expect(try sqlite("SELECT state FROM sluice_state WHERE pipeline = 'sync'").contains("2024-01-01T00:00:00Z"))
        // Same cursor value, higher key: picked up; the NULL-cursor row is read again (merged).
        _ = try sqlite("INSERT INTO src VALUES (5, 'e', '2024-01-01T00:00:00Z'); UPDATE src SET v = 'B', updated_at = '2024-02-01T00:00:00Z' WHERE id = 2")
        let second = try await sync()
        #expect(second.summary.counts("src")?.recordsOut == 3)
        #expect(try sqlite("SELECT group_concat(v, '') FROM (SELECT v FROM dst ORDER BY id)") == "aBcne")
        let idle = try await sync()
        #expect(idle.summary.counts("src")?.recordsOut == 1) // only the NULL-cursor row
    }

    @Test func wideDecimalCursorsResumeByValueNotByText() async throws {
        // Decimals of more than 15 digits are text in SQLite: '9.50' > '10.00' letter by letter. The cursor must
        // still follow their values.
        _ = try sqlite("CREATE TABLE led (id INTEGER PRIMARY KEY, amount DECIMAL_TEXT(20,2)); " +
                       "INSERT INTO led VALUES (1, '9.50'), (2, '10.00'), (3, '-5.25'), (4, '99999999999999999.99'), (5, '100.00')")
        func sync(_ name: String, lookback: String? = nil) async throws -> HarnessRun {
            try await harness.run("""
            apiVersion: sluice/v1
            name: \(name)
            nodes:
              - {id: src, type: sqlite.read, settings: {connection: local, table: led, mode: incremental, cursor: amount, key: [id]\(lookback.map { ", lookback: '\($0)'" } ?? "")}}
              - {id: dst, type: sqlite.write, settings: {connection: local, table: \(name)_copy, mode: merge, key: [id]}}
            edges:
              - {from: src.out, to: dst.in}
            """)
        }
        let first = try await sync("ledger")
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        #expect(first.summary.counts("src")?.recordsOut == 5)
        #expect(try sqlite("SELECT state FROM sluice_state WHERE pipeline = 'ledger'").contains("99999999999999999.99"))
        // Above the cursor by value (but below it as text), and below it: only the first is new.
        _ = try sqlite("INSERT INTO led VALUES (6, '100000000000000000.00'), (7, '99999999999999999.98')")
        let second = try await sync("ledger")
        #expect(second.summary.counts("src")?.recordsOut == 1)
        #expect(try sqlite("SELECT group_concat(id) FROM (SELECT id FROM ledger_copy ORDER BY id)") == "1,2,3,4,5,6")
        // A lookback is subtracted exactly, past 15 digits: 0.02 behind 100000000000000000.00 reaches …99.98 (ids 4, 6, 7).
        #expect(try await sync("ledger", lookback: "0.02").summary.counts("src")?.recordsOut == 3)
    }

    @Test func lookbackRereadsLateWritesBehindTheCursor() async throws {
        _ = try sqlite("CREATE TABLE ev (id INTEGER PRIMARY KEY, v TEXT, seq INTEGER, at TIMESTAMP); " +
                       "INSERT INTO ev VALUES (1, 'a', 10, '2024-01-01T10:00:00Z'), (2, 'b', 20, '2024-01-01T11:00:00Z')")
        func sync(_ cursor: String, _ lookback: String?) async throws -> HarnessRun {
            try await harness.run("""
            apiVersion: sluice/v1
            name: late-\(cursor)
            nodes:
              - {id: src, type: sqlite.read, settings: {connection: local, table: ev, mode: incremental, cursor: \(cursor), key: [id]\(lookback.map { ", lookback: '\($0)'" } ?? "")}}
              - {id: dst, type: sqlite.write, settings: {connection: local, table: ev_\(cursor), mode: merge, key: [id]}}
            edges:
              - {from: src.out, to: dst.in}
            """)
        }
        #expect(try await sync("seq", "5").summary.status == .succeeded)
        #expect(try await sync("at", "30 minutes").summary.status == .succeeded)
        // A write that landed late, behind both cursors.
        _ = try sqlite("INSERT INTO ev VALUES (3, 'late', 15, '2024-01-01T10:45:00Z')")
        #expect(try await sync("seq", nil).summary.counts("src")?.recordsOut == 0)
        #expect(try await sync("seq", "10").summary.counts("src")?.recordsOut == 3, "10, 15 and 20 are within 10 of 20")
        #expect(try await sync("at", "30 minutes").summary.counts("src")?.recordsOut == 2, "10:45 and 11:00")
        #expect(try sqlite("SELECT group_concat(v) FROM (SELECT v FROM ev_seq ORDER BY id)") == "a,b,late")
        #expect(try sqlite("SELECT group_concat(v) FROM (SELECT v FROM ev_at ORDER BY id)") == "a,b,late")
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: bad
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: local, table: ev, mode: incremental, cursor: at, key: [id], lookback: soon}}
          - {id: dst, type: sqlite.write, settings: {connection: local, table: x}}
        edges:
          - {from: src.out, to: dst.in}
        """)
        #expect(problems.first?.field == "lookback" && problems.first?.message.contains("'soon' is not a duration") == true, "\(problems)")
    }

    @Test func badConnectionsAreConfigurationErrors() async {
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: q
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: nowhere, table: x}}
        edges: []
        """)
        #expect(problems.first?.code == "unknown_connection")
        #expect(problems.first?.expected == "one of: local")
        let missingTable = await harness.problems("""
        apiVersion: sluice/v1
        name: q
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: local, table: nope}}
        edges: []
        """)
        #expect(missingTable.first?.code == "database_error" || missingTable.first?.code == "unknown_table")
    }
}

@Suite struct ConnectionsFileTests {
    @Test func secretsResolveAndNeverPrint() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("pw.txt", "from-a-file\n")
        let yaml = """
        a: {type: sqlite, path: a.db}
        """
        let catalog = try ConnectionsFile.parse(yaml, file: dir.file("connections.yaml"), specs: [ConnectionSpec(
            type: "sqlite", summary: "", fields: [FieldSpec(name: "path", kind: .path, summary: "p", isRequired: true, defaultText: nil, example: nil),
                                                  FieldSpec(name: "password", kind: .string, summary: "p", isRequired: false, defaultText: nil, example: nil)],
            secretFields: ["password"])], environment: [:])
        #expect(catalog.connections["a"]?.type == "sqlite")
        let withSecrets = try ConnectionsFile.parse("""
        env: {type: db, password: "${env:DB_PASSWORD}"}
        file: {type: db, password: "${file:pw.txt}"}
        plain: {type: db, password: hunter2}
        """, file: dir.file("connections.yaml"), specs: [ConnectionSpec(type: "db", summary: "", fields: [
            FieldSpec(name: "password", kind: .string, summary: "p", isRequired: false, defaultText: nil, example: nil)], secretFields: ["password"])],
            environment: ["DB_PASSWORD": "from-env"])
        #expect(withSecrets.connections["env"]?.secrets["password"]?.reveal() == "from-env")
        #expect(withSecrets.connections["file"]?.secrets["password"]?.reveal() == "from-a-file")
        let printed = "\(withSecrets.connections.values.map { "\($0) \($0.secrets) \(String(reflecting: $0.secrets))" })"
        for secret in ["from-env", "from-a-file", "hunter2"] { #expect(!printed.contains(secret)) }
    }

    @Test func problemsAreLocatedAndSecretFree() async {
        do {
            _ = try ConnectionsFile.parse("""
            a: {type: db, password: "${env:MISSING}", colour: red}
            b: {type: nope}
            c: {path: x}
            """, file: "connections.yaml", specs: [ConnectionSpec(type: "db", summary: "", fields: [
                FieldSpec(name: "password", kind: .string, summary: "p", isRequired: false, defaultText: nil, example: nil)], secretFields: ["password"])],
                environment: [:])
            Issue.record("expected errors")
        } catch {
            #expect(Set(error.errors.map(\.code)) == ["unresolved_reference", "unknown_key", "unknown_connection_type", "missing_field"])
            #expect(error.errors.allSatisfy { $0.location?.line != nil })
            #expect(error.errors.first { $0.code == "unresolved_reference" }?.message.contains("MISSING is not set") == true)
        }
    }
}
