import Foundation
import SluiceTestSupport
import Testing

/// The ELT example (examples/relayboard) end to end with the real binary: the partner's file over HTTPS (the test
/// API server, its own certificate), a raw copy in the bucket (moto), staging and SQL models in PostgreSQL (one
/// incremental), and the leaderboard posted to a Slack webhook receiver; then a second day's file with corrections.
@Suite struct RelayboardExampleTests {
    static let example = PostgresTestServer.root.appendingPathComponent("examples/relayboard").path

    @Test func theDailyFileReachesTheWarehouseAndSlack() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let api = try APITestServer.server
        let database = try PostgresTestServer.createDatabase()
        let bucket = S3TestServer.bucketName()
        let made = try runProcess("/usr/bin/curl", ["-s", "-f", "-X", "PUT", "http://127.0.0.1:\(try S3TestServer.port)/\(bucket)"])
        #expect(made.status == 0, "\(made.stderr)")
        let store = "relayboard-\(UUID().uuidString.prefix(8))"
        // The partner's files, under names of this test's own.
        try FileManager.default.createDirectory(atPath: api.directory + "/static", withIntermediateDirectories: true)
        for day in ["2026-12-01", "2026-12-02"] {
            try Data(contentsOf: URL(fileURLWithPath: "\(Self.example)/data/deliveries-\(day).csv")).write(to: URL(fileURLWithPath: "\(api.directory)/static/\(store)-\(day).csv"))
        }
        for item in ["pipeline.yaml", "models", "tests"] {
            try FileManager.default.copyItem(atPath: "\(Self.example)/\(item)", toPath: dir.file(item))
        }
        try dir.write("connections.yaml", """
        partner: {type: http, baseUrl: "\(api.tlsBaseURL)", caFile: "\(api.certificatePath)"}
        \(try S3TestServer.connectionYAML("lake", bucket: bucket))
        warehouse: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: postgres, sslmode: disable}
        team: {type: slack, webhookUrl: "\(api.baseURL)/slack/hooks/\(store)"}
        """)

        let first = try await offThePool { try CommandLineTests.sluice(["run", "pipeline.yaml", "--param", "source_url=\(api.tlsBaseURL)/static/\(store)-2026-12-01.csv", "--param", "day=2026-12-01"],
                                                in: dir.path) }
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("models › ✔ deliveries (incremental (first build)): succeeded, 1,200 rows"), "\(first.stdout)")
        #expect(first.stdout.contains("models › ✔ accepted_values(deliveries.status) (test): succeeded"))
        let psql = { (sql: String) throws -> String in try PostgresTestServer.psql(database, sql) }
        #expect(try psql("SELECT count(*), count(DISTINCT courier) FROM analytics.deliveries") == "1200|12")
        #expect(try psql("SELECT count(*) FROM analytics.deliveries WHERE courier <> trim(courier) OR status <> lower(status)") == "0", "staging cleaned the messy rows")

        let second = try await offThePool { try CommandLineTests.sluice(["run", "pipeline.yaml", "--param", "source_url=\(api.tlsBaseURL)/static/\(store)-2026-12-02.csv", "--param", "day=2026-12-02"],
                                                 in: dir.path) }
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("models › ✔ deliveries (incremental): succeeded, 940 rows"), "\(second.stdout)")
        // 900 new deliveries, and 40 of day 1 corrected in place (returned after all).
        #expect(try psql("SELECT count(*) FROM analytics.deliveries") == "2100")
        #expect(try psql("SELECT count(*) FROM analytics.deliveries WHERE delivery_id BETWEEN 100001 AND 100040 AND status = 'returned'") == "40")
        #expect(try psql("SELECT count(DISTINCT day) FROM analytics.courier_daily") == "2")

        let listed = try await offThePool { try CommandLineTests.sluice(["discover", "lake", "--path", "raw/relayboard/*.csv"], in: dir.path) }
        #expect(listed.stdout.contains("raw/relayboard/deliveries-2026-12-01.csv") && listed.stdout.contains("raw/relayboard/deliveries-2026-12-02.csv"), "\(listed.stdout)")

        let received = try await APITestServer.call("GET", "/hook/received?store=slack:\(store)") as? [String: Any]
        let messages = received?["rows"] as? [[String: Any]] ?? []
        #expect(messages.count == 2, "\(String(describing: received))")
        let text = messages.map { message in
            ((message["blocks"] as? [[String: Any]]) ?? []).compactMap { ($0["text"] as? [String: Any])?["text"] as? String }.joined(separator: "\n")
        }
        #expect(text.first?.contains("*Relayboard, 2026-12-01*: the top 5 couriers by deliveries") == true, "\(text)")
        let leader = try psql("SELECT courier FROM analytics.top_couriers ORDER BY deliveries DESC, courier LIMIT 1")
        #expect(text.last?.contains(leader) == true && text.last?.contains("on_time_pct") == true, "\(text)")
    }

    @Test func theExampleRunsWithOneCommand() async throws {
        // The script starts servers that stop when it exits: spawned with stdout and stderr only (see spawn).
        let run = try await offThePool { PostgresTestServer.spawn("/usr/bin/env", ["SLUICE=\(CommandLineTests.binary)", "/bin/bash", "\(Self.example)/run.sh"]) }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("*Relayboard, 2026-12-02*: the top 5 couriers by deliveries"), "\(run.output)")
        #expect(run.output.contains("raw/relayboard/deliveries-2026-12-02.csv"))
    }
}
