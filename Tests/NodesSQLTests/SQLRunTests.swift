import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// sql.run on PostgreSQL and SQLite: statements in one transaction with bound parameters, row counts and notices
/// in the log, a failure rolled back and named by line; and sql.models on SQLite.
@Suite struct SQLRunTests {
    let dir: TemporaryDirectory
    let database: String
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        database = try PostgresTestServer.createDatabase()
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        warehouse: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: postgres, sslmode: disable}
        local: {type: sqlite, path: local.db}
        files: {type: s3, endpoint: "http://127.0.0.1:9", region: us-east-1, bucket: b, accessKeyId: x, secretAccessKey: y}
        """)
        try PostgresTestServer.psql(database, "CREATE TABLE t (id int PRIMARY KEY, note text)")
    }

    func pipeline(_ settings: String) -> String {
        """
        apiVersion: sluice/v1
        name: sql
        nodes:
          - {id: step, type: sql.run, settings: {\(settings)}}
        """
    }

    @Test func statementsRunInOneTransactionWithBoundParametersAndLoggedCounts() async throws {
        let run = try await harness.run(pipeline("""
        connection: warehouse, parameters: {note: "'''; DROP TABLE t; --'", first: "1 + 1"},
              sql: "INSERT INTO t VALUES (:first, :note), (3, :note); UPDATE t SET note = note || '!' WHERE id > :first - 1; DO $$ BEGIN RAISE NOTICE 'checked %', 2; END $$"
        """))
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try PostgresTestServer.psql(database, "SELECT id, note FROM t ORDER BY id") == "2|'; DROP TABLE t; --!\n3|'; DROP TABLE t; --!")
        let messages = run.events.messages.joined(separator: "\n")
        #expect(messages.contains("statement 1 (line 1): INSERT, 2 rows"))
        #expect(messages.contains("statement 2 (line 1): UPDATE, 2 rows"))
        #expect(messages.contains("NOTICE: checked 2"))
    }

    @Test func aFailingStatementRollsBackEverythingAndNamesItsLine() async throws {
        try dir.write("sql/load.sql", "INSERT INTO t VALUES (1, 'kept?');\n\nUPDATE t\n   SET nope = 1;\n")
        let run = try await harness.run(pipeline("connection: warehouse, file: sql/load.sql"))
        #expect(run.summary.status == .failed)
        #expect(run.summary.error?.contains("statement 2 (sql/load.sql line 4) failed: column \"nope\" of relation \"t\" does not exist") == true, "\(run.summary.error ?? "")")
        #expect(try PostgresTestServer.psql(database, "SELECT count(*) FROM t") == "0")

        let autocommit = try await harness.run(pipeline("connection: warehouse, file: sql/load.sql, transaction: false"))
        #expect(autocommit.summary.status == .failed)
        #expect(try PostgresTestServer.psql(database, "SELECT count(*) FROM t") == "1")
    }

    @Test func sqliteRunsStatementsAndModels() async throws {
        let run = try await harness.run(pipeline("""
        connection: local, parameters: {n: "3"},
              sql: "CREATE TABLE raw (id INTEGER, v TEXT); INSERT INTO raw WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < :n) SELECT x, 'v' || x FROM s"
        """))
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.events.messages.contains { $0.contains("INSERT, 3 rows") })
        try dir.write("models/doubled.sql", "-- materialized: table\nselect id, id * 2 as twice from raw\n")
        try dir.write("models/latest.sql", "{{ config(materialized='incremental', unique_key='id') }}\nselect id, v from raw\n{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n")
        try dir.write("models/view.sql", "select sum(twice) as total from {{ ref('doubled') }}\n")
        try dir.write("models/schema.yaml", "models:\n  - name: doubled\n    columns:\n      - name: id\n        tests: [unique, not_null]\n")
        let models = """
        apiVersion: sluice/v1
        name: models
        nodes:
          - {id: build, type: sql.models, settings: {connection: local, path: models}}
        """
        let first = try await harness.run(models)
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        let second = try await harness.run(models)
        #expect(second.summary.status == .succeeded, "\(second.summary.error ?? "")")
        let steps = second.events.events.compactMap { if case let .step(_, step) = $0, step.status != .running { step } else { nil } }
        #expect(steps.first { $0.name == "latest" }?.kind == "incremental")
        #expect(steps.first { $0.name == "doubled" }?.rows == 3)
        #expect(steps.filter { $0.kind == "test" }.count == 2)

        try dir.write("models/broken.sql", "select missing_column from {{ ref('doubled') }}\n")
        let broken = try await harness.run(models)
        #expect(broken.summary.status == .failed)
        #expect(broken.summary.error?.contains("models/broken.sql line 1: no such column: missing_column") == true, "\(broken.summary.error ?? "")")
        #expect(await harness.problems(models.replacingOccurrences(of: "path: models", with: "path: models, schema: analytics")).isEmpty)
    }

    @Test func settingsAreCheckedBeforeTheRun() async throws {
        #expect(await harness.problems(pipeline("connection: warehouse")).first?.code == "missing_field")
        #expect(await harness.problems(pipeline("connection: warehouse, sql: '-- nothing'")).first?.message.contains("no statement") == true)
        #expect(await harness.problems(pipeline("connection: warehouse, sql: 'select 1', file: x.sql")).first?.code == "conflicting_fields")
        #expect(await harness.problems(pipeline("connection: files, sql: 'select 1'")).first?.code == "connection_type_mismatch")
        #expect(await harness.problems(pipeline("connection: nowhere, sql: 'select 1'")).first?.code == "unknown_connection")
        #expect(await harness.problems(pipeline("connection: warehouse, file: missing.sql")).first?.code == "file_not_found")
    }

    @Test func pipelineSQLReachesNoOtherFileAndNoFolderOutsideTheWorkspace() async throws {
        let attach = try await harness.run(pipeline("connection: local, sql: \"ATTACH DATABASE 'other.db' AS other\""))
        #expect(attach.summary.status == .failed)
        #expect(attach.summary.error?.contains("too many attached databases") == true, "\(attach.summary.error ?? "")")
        let vacuum = try await harness.run(pipeline("connection: local, sql: \"VACUUM INTO 'copy.db'\""))
        #expect(vacuum.summary.status == .failed)
        #expect(!dir.exists("copy.db") && !dir.exists("other.db"))

        let outside = try TemporaryDirectory()
        defer { outside.remove() }
        try outside.write("models/a.sql", "select 1 as x\n")
        try outside.write("secret.sql", "select 1\n")
        var confined = harness
        confined.fileRoots = .confined(to: [dir.path])
        let models = "apiVersion: sluice/v1\nname: m\nnodes:\n  - {id: m, type: sql.models, settings: {connection: local, path: \(outside.path)/models}}\n"
        #expect(await confined.problems(models).first?.code == "path_outside_workspace")
        #expect(await confined.problems(pipeline("connection: local, file: \(outside.path)/secret.sql")).first?.code == "path_outside_workspace")
        // A link inside the workspace leading out of it is refused too.
        try FileManager.default.createDirectory(atPath: dir.file("linked"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.file("linked/a.sql"), withDestinationPath: outside.file("models/a.sql"))
        let linked = "apiVersion: sluice/v1\nname: m\nnodes:\n  - {id: m, type: sql.models, settings: {connection: local, path: linked}}\n"
        #expect(await confined.problems(linked).first?.code == "path_outside_workspace")
    }
}
