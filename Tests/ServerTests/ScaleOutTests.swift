import Foundation
import Store
@testable import Server
import SluiceTestSupport
import Testing

/// One `sluice serve` and three `sluice worker` processes on one PostgreSQL store; a worker is killed
/// with SIGKILL while it holds runs. Every run must end `succeeded` exactly once, and no run's rows
/// may reach the destination twice.
@Suite(.serialized)
struct ScaleOutTests {
    static let rowsPerRun = 20_000
    static let runs = 100
    static let connectionPassword = "scale-out-connection-secret-7731"
    static let masterPassword = "scale-out-master-password-4410"

    @Test(.timeLimit(.minutes(8)))
    func killedWorkersRunsFinishExactlyOnceElsewhere() async throws {
        let store = try PostgresTestServer.createDatabase()
        let target = try PostgresTestServer.createDatabase()
        let storeURL = "postgres://postgres@127.0.0.1:\(try PostgresTestServer.port)/\(store)"
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("admin.pw", "scale-out-admin-password")
        try dir.write("master.pw", Self.masterPassword)
        try FileManager.default.createDirectory(atPath: dir.file("files"), withIntermediateDirectories: true)
        try dir.write("files/in.csv", "id,amount\n" + (1...Self.rowsPerRun).map { "\($0),\($0 % 97)\n" }.joined())
        let storeArguments = ["--store", storeURL, "--data-dir", dir.path, "--master-password-file", dir.file("master.pw")]

        let added = try runProcess(SluiceBinary.path, ["user", "add", "root", "--role", "admin", "--password-file", dir.file("admin.pw")] + storeArguments)
        #expect(added.status == 0, "\(added.stderr)")
        let server = try ChildProcess(SluiceBinary.path, ["serve", "--listen", "127.0.0.1:0", "--workers", "0"] + storeArguments, logPath: dir.file("serve.log"))
        #expect(await server.waitForOutput("Sluice is running at "), "\(server.output)")
        let base = try #require(server.output.firstMatch(of: /running at (http:\/\/[0-9.:]+)/).map { String($0.1) }, "\(server.output)")
        let api = HTTP(base: base)
        let login = try api.call("POST", "/api/v1/auth/login", json: .object(["username": .string("root"), "password": .string("scale-out-admin-password")]))
        let token = try #require(login["access_token"]?.stringValue, "\(login.text)")
        let connection = try api.call("POST", "/api/v1/connections", token: token, json: .object([
            "name": .string("warehouse"), "type": .string("postgres"),
            "settings": .object(["host": .string("127.0.0.1"), "port": .int(Int64(try PostgresTestServer.port)), "database": .string(target),
                                 "user": .string("postgres"), "sslmode": .string("disable")]),
            "secrets": .object(["password": .string(Self.connectionPassword)]),
        ]))
        #expect(connection["secrets_set"] == .array([.string("password")]), "\(connection.text)")
        let document = """
            apiVersion: sluice/v1
            name: scale-out
            parameters:
              batch: {type: int64}
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64}}}
              - {id: tag, type: compute, settings: {columns: {batch: "${batch}"}}}
              - {id: load, type: postgres.write, settings: {connection: warehouse, table: loaded}}
            edges:
              - {from: src.out, to: tag.in}
              - {from: tag.out, to: load.in}
            """
        let pipeline = try #require(try api.call("POST", "/api/v1/pipelines", token: token, json: .object(["document": .string(document)]))["id"]?.stringValue)
        for batch in 0..<Self.runs {
            let run = try api.call("POST", "/api/v1/pipelines/\(pipeline)/runs", token: token,
                                   json: .object(["parameters": .object(["batch": .string(String(batch))])]))
            #expect(run["status"] == .string("queued"), "\(run.text)")
        }

        // The first worker starts alone, so it surely holds runs; it is killed with SIGKILL while it holds some, then
        // the other two start and must finish everything. The watching runs on its own thread: under a full test run
        // the test process's task pool can be starved for seconds, long enough for the worker to finish every run.
        // The worker is frozen (SIGSTOP) while the store is asked which runs it holds, so none can finish before the kill.
        func startWorker(_ index: Int) throws -> ChildProcess {
            try ChildProcess(SluiceBinary.path, ["worker", "--workers", "2", "--lease-seconds", "3"] + storeArguments, logPath: dir.file("worker\(index).log"))
        }
        let victim = try startWorker(0)
        let heldByVictim = "SELECT id FROM runs WHERE status = 'running' AND worker_id LIKE '%:\(victim.pid):%'"
        let held: [String] = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                func heldRuns() -> [String] { ((try? PostgresTestServer.psql(store, heldByVictim)) ?? "").split(separator: "\n").map(String.init) }
                let deadline = Date().addingTimeInterval(120)
                var held: [String] = []
                while held.isEmpty, Date() < deadline {
                    if heldRuns().isEmpty { usleep(2_000); continue }
                    victim.pause()
                    held = heldRuns()
                    if held.isEmpty { victim.resume() }
                }
                victim.killHard()
                continuation.resume(returning: held)
            }
        }
        if held.isEmpty {
            let runs = (try? PostgresTestServer.psql(store, "SELECT status || ' ' || count(*) || ' ' || COALESCE(min(worker_id), '-') FROM runs GROUP BY status")) ?? "?"
            Issue.record("the first worker (pid \(victim.pid)) held no run when it was killed; runs: \(runs); its output: \(victim.output)")
            return
        }
        let survivors = [try startWorker(1), try startWorker(2)]
        for worker in survivors { #expect(await worker.waitForOutput("Sluice worker"), "\(worker.output)") }

        // Every run reaches a final state (the killed worker's after its lease expires).
        let finalDeadline = ContinuousClock.now + .seconds(300)
        var open = Self.runs
        while open > 0, ContinuousClock.now < finalDeadline {
            open = Int(try PostgresTestServer.psql(store, "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')")) ?? -1
            if open > 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        let statuses = try PostgresTestServer.psql(store, "SELECT status || '=' || count(*) FROM runs GROUP BY status ORDER BY status")
        let unsuccessful = try PostgresTestServer.psql(store, "SELECT status, attempt, worker_id, error FROM runs WHERE status <> 'succeeded'")
        #expect(statuses == "succeeded=\(Self.runs)", "\(statuses); \(unsuccessful)")
        // Each batch's rows arrived exactly once.
        let perBatch = try PostgresTestServer.psql(target, "SELECT count(DISTINCT batch) || ' ' || min(n) || ' ' || max(n) FROM (SELECT batch, count(*) AS n FROM loaded GROUP BY batch) b")
        #expect(perBatch == "\(Self.runs) \(Self.rowsPerRun) \(Self.rowsPerRun)", "batches, min and max rows per batch: \(perBatch)")
        #expect(try PostgresTestServer.psql(target, "SELECT count(*) FROM loaded") == "\(Self.runs * Self.rowsPerRun)")
        // The killed worker's runs were retried by the others.
        let retried = try PostgresTestServer.psql(store, "SELECT count(*) FROM runs WHERE id IN (\(held.map { "'\($0)'" }.joined(separator: ","))) AND attempt >= 2")
        #expect(retried == "\(held.count)", "runs held by the killed worker: \(held), retried: \(retried)")

        for worker in survivors { #expect(await worker.stop() == 0, "\(worker.output)") }
        #expect(await server.stop() == 0, "\(server.output)")
        // No secret in any process log or API response.
        let everything = ([server.output, victim.output] + survivors.map(\.output) + api.transcript).joined(separator: "\n")
        #expect(!everything.contains(Self.connectionPassword) && !everything.contains(Self.masterPassword))
    }
}

/// A JSON client over curl, for servers running in another process; keeps every response body.
final class HTTP: @unchecked Sendable {
    let base: String
    private(set) var transcript: [String] = []

    init(base: String) { self.base = base }

    func call(_ method: String, _ path: String, token: String? = nil, json: JSONValue? = nil) throws -> JSONValue {
        var arguments = ["-s", "-X", method, base + path, "-H", "Content-Type: application/json"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let json { arguments += ["--data-binary", json.text] }
        let result = try runProcess("/usr/bin/curl", arguments)
        transcript.append(result.stdout)
        return JSONValue.parse(result.stdout) ?? .string(result.stdout)
    }
}
