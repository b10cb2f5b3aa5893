import Foundation
import SluiceTestSupport
import Testing

/// Exactly-once under `kill -9`: the target holds nothing or everything of a run, and re-runs resume
/// from the committed cursor with no row lost or repeated.
@Suite struct CrashSafetyTests {
    static let rows = 1_000_000

    /// The release binary scripts/test builds (a debug build takes ~30 s per 1M-row run), else the debug one.
    static let binary = ProcessInfo.processInfo.environment["SLUICE_RELEASE_BINARY"].flatMap { $0.isEmpty ? nil : $0 } ?? CommandLineTests.binary

    func sluice(_ arguments: [String], in dir: TemporaryDirectory, killAfterLines: Int? = nil) throws -> (status: Int32, lines: Int, killed: Bool, last: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var lines = 0, killed = false, pending = Data(), last = ""
        while true {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 10) {
                last = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                lines += 1
                if let limit = killAfterLines, lines >= limit, !killed {
                    kill(process.processIdentifier, SIGKILL)
                    killed = true
                }
            }
        }
        process.waitUntilExit()
        return (process.terminationStatus, lines, killed, last)
    }

    @Test func killedLoadsLeaveNothingOrEverythingAndReRunsConverge() throws {
        let database = try PostgresTestServer.createDatabase()
        let psql = { (sql: String) throws -> String in try PostgresTestServer.psql(database, sql) }
        _ = try psql("CREATE TABLE src AS SELECT g AS id, md5(g::text) AS payload, now() AS loaded FROM generate_series(1, \(Self.rows)) g; ALTER TABLE src ADD PRIMARY KEY (id)")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("connections.yaml", "wh: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: postgres, sslmode: disable}\n")
        try dir.write("copy.yaml", """
        apiVersion: sluice/v1
        name: copy
        nodes:
          - {id: src, type: postgres.read, settings: {connection: wh, table: src, mode: incremental, cursor: id}}
          - {id: dst, type: postgres.write, settings: {connection: wh, table: dst}}
        edges:
          - {from: src.out, to: dst.in}
        """)
        let reset = { () throws in _ = try psql("DROP TABLE IF EXISTS dst; DROP TABLE IF EXISTS sluice_state") }
        // A full run tells how many event lines a run prints; kill points are drawn from that range.
        let full = try sluice(["run", "--json", "copy.yaml"], in: dir)
        try #require(full.status == 0, "\(full.last)")
        #expect(try psql("SELECT count(*) FROM dst") == "\(Self.rows)")
        var generator = SystemRandomNumberGenerator()
        var outcomes: [String] = []
        for trial in 0..<10 {
            try reset()
            let killAt = Int.random(in: 1...max(2, full.lines), using: &generator)
            let run = try sluice(["run", "--json", "copy.yaml"], in: dir, killAfterLines: killAt)
            let exists = try psql("SELECT to_regclass('dst') IS NOT NULL") == "t"
            let count = exists ? try psql("SELECT count(*) FROM dst") : "0"
            #expect(count == "0" || count == "\(Self.rows)", "trial \(trial): \(count) rows after kill at line \(killAt)")
            outcomes.append(run.killed ? "killed at line \(killAt): \(count)" : "finished: \(count)")
            // Re-run until done (at most twice): exactly the source rows, each once.
            let rerun = try sluice(["run", "--json", "copy.yaml"], in: dir)
            #expect(rerun.status == 0, "\(rerun.last)")
            #expect(try psql("SELECT count(*), count(DISTINCT id) FROM dst") == "\(Self.rows)|\(Self.rows)", "trial \(trial)")
            #expect(try psql("SELECT count(*) FROM src LEFT JOIN dst USING (id) WHERE dst.id IS NULL OR dst.payload <> src.payload") == "0")
            // And nothing more to do.
            _ = try sluice(["run", "--json", "copy.yaml"], in: dir)
            #expect(try psql("SELECT count(*) FROM dst") == "\(Self.rows)")
        }
        print("crash trials: " + outcomes.joined(separator: "; "))
    }

    /// The same under `kill -9` for an incremental API read into PostgreSQL: the cursor moves only with the data,
    /// so after a kill and a re-run every event is in the table exactly once, and later runs read only new events.
    @Test func killedAPIReadsMoveTheirCursorOnlyWithTheData() async throws {
        let database = try PostgresTestServer.createDatabase()
        let psql = { (sql: String) throws -> String in try PostgresTestServer.psql(database, sql) }
        let api = try APITestServer.server
        let store = UUID().uuidString
        _ = try await APITestServer.call("POST", "/events/add?store=\(store)&count=20000")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("connections.yaml", """
        wh: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: postgres, sslmode: disable}
        api: {type: http, baseUrl: "\(api.baseURL)"}
        """)
        try dir.write("feed.yaml", """
        apiVersion: sluice/v1
        name: feed
        nodes:
          - id: events
            type: http.read
            settings: {connection: api, path: /events, query: {store: '\(store)', size: '200'}, records: events, mode: incremental, cursor: seq,
                       cursorParam: since, batchRows: 200, pagination: {style: cursor, cursorPath: next, cursorParam: cursor}}
          - {id: dst, type: postgres.write, settings: {connection: wh, table: events}}
        edges:
          - {from: events.out, to: dst.in}
        """)
        func check(_ total: Int, _ context: String) throws {
            #expect(try psql("SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM events") == "\(total)|\(total)|\(total)", "\(context)")
        }
        let full = try sluice(["run", "--json", "feed.yaml"], in: dir)
        try #require(full.status == 0, "\(full.last)")
        try check(20000, "first full run")
        var total = 20000
        for trial in 0..<4 {
            _ = try await APITestServer.call("POST", "/events/add?store=\(store)&count=5000")
            total += 5000
            let killAt = Int.random(in: 1...max(2, full.lines))
            let killed = try sluice(["run", "--json", "feed.yaml"], in: dir, killAfterLines: killAt)
            let count = Int(try psql("SELECT count(*) FROM events")) ?? -1
            #expect(count == total - 5000 || count == total, "trial \(trial): \(count) rows after a kill at line \(killAt) (killed: \(killed.killed))")
            let rerun = try sluice(["run", "--json", "feed.yaml"], in: dir)
            #expect(rerun.status == 0, "\(rerun.last)")
            try check(total, "trial \(trial) after the re-run")
        }
    }
}
