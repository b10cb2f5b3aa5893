import Columnar
import Foundation
import NodeKit
@testable import NodesPostgres
import Runtime
import SluiceTestSupport
import Testing

/// Full reads go through Sluice's own wire-protocol connection (binary COPY TO): logins by every password
/// method the server may ask for, and values that do not fit kept as rejected records.
@Suite struct PostgresCopyReadTests {
    let dir: TemporaryDirectory
    let database: String

    init() throws {
        dir = try TemporaryDirectory()
        database = try PostgresTestServer.createDatabase()
        try PostgresTestServer.psql(database, "CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 50000) g")
    }

    func read(user: String, password: String, table: String = "t", sslmode: String = "prefer") async throws -> HarnessRun {
        try await read(user: user, password: password, source: "table: \(table)", sslmode: sslmode)
    }

    func read(user: String, password: String, source: String, sslmode: String) async throws -> HarnessRun {
        try await harness(user: user, password: password, sslmode: sslmode).run("""
        apiVersion: sluice/v1
        name: read
        nodes:
          - {id: src, type: postgres.read, settings: {connection: db, \(source), batchRows: 4096}}
          - {id: last, type: limit, settings: {count: 1000000}}
        edges:
          - {from: src.out, to: last.in}
        """, preview: "last", previewLimit: 1_000_000)
    }

    /// Loads what `source` reads into `table`, both through connections with these settings.
    func copy(user: String, password: String, source: String, sslmode: String, to table: String) async throws -> HarnessRun {
        try await harness(user: user, password: password, sslmode: sslmode).run("""
        apiVersion: sluice/v1
        name: copy
        nodes:
          - {id: src, type: postgres.read, settings: {connection: db, \(source)}}
          - {id: load, type: postgres.write, settings: {connection: db, table: \(table)}}
        edges:
          - {from: src.out, to: load.in}
        """)
    }

    func harness(user: String, password: String, sslmode: String) throws -> PipelineHarness {
        try PipelineHarness(directory: dir, connectionsYAML: """
        db: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: \(user), password: "${env:PG_PASSWORD}", sslmode: \(sslmode)}
        """, environment: ["PG_PASSWORD": password])
    }

    @Test(arguments: ["scram-sha-256", "md5", "password"])
    func everyPasswordMethodLogsIn(method: String) async throws {
        let role = "reader_" + method.replacingOccurrences(of: "-", with: "_") + "_" + UUID().uuidString.prefix(6).lowercased()
        let password = "pä ss'\(UUID().uuidString.prefix(4))"
        try PostgresTestServer.addPasswordRole(role, password: password.replacingOccurrences(of: "'", with: "''"), method: method)
        try PostgresTestServer.psql(database, "GRANT SELECT ON t TO \(role); GRANT CREATE ON SCHEMA public TO \(role)")

        let run = try await read(user: role, password: password)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let rows = run.result.preview.reduce(0) { $0 + $1.count }
        #expect(rows == 50_000)
        let ids = run.result.preview.flatMap { batch in (0..<batch.count).map { batch.columns[0].value(at: $0) } }
        #expect(Set(ids).count == 50_000 && ids.first == .int(1))
        // A load logs in the same way (on its own wire session) and copies every row.
        let copied = try await copy(user: role, password: password, source: "table: t", sslmode: "prefer", to: "t_copy")
        #expect(copied.summary.status == .succeeded, "\(copied.summary.error ?? "")")
        #expect(try PostgresTestServer.psql(database, "SELECT count(*), count(DISTINCT id), sum(length(name)) = (SELECT sum(length(name)) FROM t) FROM t_copy") == "50000|50000|t")

        // A wrong password, straight through the wire client: a login error that names the server and the
        // user, is not retried, and never shows the password.
        let wrong = "wrong-\(UUID().uuidString)"
        let port = try PostgresTestServer.port
        let endpoint = PostgresEndpoint(host: "127.0.0.1", port: port, database: database, user: role, password: Secret(wrong), sslmode: .prefer)
        do {
            try await PostgresWireSession.withSession(endpoint) { _ in }
            Issue.record("a wrong password logged in")
        } catch let error as NodeError {
            let text = error.description
            #expect(text.contains("127.0.0.1:\(port)") && text.contains(role) && text.contains("password authentication failed"), "\(text)")
            #expect(!error.isRetryable && !text.contains(wrong))
        }
    }

    /// The test cluster offers TLS: prefer and require use it, disable does not (the server says which). The
    /// load's session negotiates the same way and writes what was read.
    @Test(arguments: [("disable", false), ("prefer", true), ("require", true)])
    func sslmodeDecidesWhetherTheReadIsEncrypted(sslmode: String, encrypted: Bool) async throws {
        let query = "query: 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'"
        let run = try await read(user: "postgres", password: "unused", source: query, sslmode: sslmode)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(run.result.preview.first?.columns[0].value(at: 0) == .bool(encrypted))
        let copied = try await copy(user: "postgres", password: "unused", source: query, sslmode: sslmode, to: "seen")
        #expect(copied.summary.status == .succeeded, "\(copied.summary.error ?? "")")
        #expect(try PostgresTestServer.psql(database, "SELECT ssl FROM seen") == (encrypted ? "t" : "f"))
    }

    @Test func valuesThatDoNotFitAreRejectedWithTheirRow() async throws {
        try PostgresTestServer.psql(database, """
        CREATE TABLE odd (id int, day date, amount numeric(12,3), at timestamptz);
        INSERT INTO odd VALUES (1, '2024-01-02', 1.5, '2024-01-02 03:04:05+00'), (2, 'infinity', 2, NULL), (3, '2024-01-03', 'NaN', NULL),
                               (4, NULL, NULL, '-infinity'), (5, '2024-01-05', 5, NULL), (6, NULL, NULL, '294276-12-31 23:59:59+00');
        """)
        let run = try await read(user: "postgres", password: "unused", table: "odd")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let ids = run.result.preview.flatMap { batch in (0..<batch.count).map { batch.columns[0].value(at: $0) } }
        #expect(ids == [.int(1), .int(5)])
        // The last: PostgreSQL's timestamps reach 294276 AD, Sluice's (microseconds from 1970) 292277 AD.
        #expect(run.rejects.map(\.record.field) == ["day", "amount", "at", "at"])
        #expect(run.rejects.map(\.record.row) == [1, 2, 3, 5])
        let payloads = run.rejects.map(\.jsonLine)
        #expect(payloads[0].contains("infinity") && payloads[1].contains("NaN") && payloads[2].contains("-infinity"), "\(payloads)")
        #expect(payloads[0].contains("\"id\":2") || payloads[0].contains("\"id\": 2"), "\(payloads[0])")
    }
}
