import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// Two `sluice serve` processes on one PostgreSQL store with a per-second cron: one holds the scheduling role; it is
/// killed halfway through a minute, the other takes over within seconds, and no fire time is lost or fired twice.
@Suite(.serialized)
struct SchedulerFailoverTests {
    @Test(.timeLimit(.minutes(3)))
    func anotherServerTakesOverAndNoFiringIsLostOrDoubled() async throws {
        let store = try PostgresTestServer.createDatabase()
        let storeURL = "postgres://postgres@127.0.0.1:\(try PostgresTestServer.port)/\(store)"
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("admin.pw", "failover-admin-password")
        try dir.write("master.pw", "failover-master-password")
        let storeArguments = ["--store", storeURL, "--data-dir", dir.path, "--master-password-file", dir.file("master.pw")]
        let added = try runProcess(SluiceBinary.path, ["user", "add", "root", "--role", "admin", "--password-file", dir.file("admin.pw")] + storeArguments)
        #expect(added.status == 0, "\(added.stderr)")
        func serve(_ name: String) throws -> ChildProcess {
            try ChildProcess(SluiceBinary.path, ["serve", "--listen", "127.0.0.1:0", "--workers", "0"] + storeArguments, logPath: dir.file("\(name).log"))
        }
        let servers = [try serve("a"), try serve("b")]
        for server in servers { #expect(await server.waitForOutput("Sluice is running at "), "\(server.output)") }
        let base = try #require(servers[0].output.firstMatch(of: /running at (http:\/\/[0-9.:]+)/).map { String($0.1) })
        let api = HTTP(base: base)
        let token = try #require(try api.call("POST", "/api/v1/auth/login", json: .object(["username": .string("root"), "password": .string("failover-admin-password")]))["access_token"]?.stringValue)
        let document = """
            apiVersion: sluice/v1
            name: ticks
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: out, type: csv.write, settings: {path: out.csv}}
            edges:
              - {from: src.out, to: out.in}
            """
        let pipeline = try #require(try api.call("POST", "/api/v1/pipelines", token: token, json: .object(["document": .string(document)]))["id"]?.stringValue)
        let trigger = try api.call("POST", "/api/v1/triggers", token: token, json: .object([
            "name": .string("every-second"), "kind": .string("cron"), "settings": .object(["schedule": .string("* * * * * *")]), "overlap": .string("queue"),
            "missed": .string("all"), "missed_cap": .int(1000), "pipelines": .array([.object(["pipeline_id": .string(pipeline)])]),
        ]))
        let triggerID = try #require(trigger["id"]?.stringValue, "\(trigger.text)")

        // Exactly one server schedules.
        let leaderText = "this process runs the scheduler"
        var deadline = ContinuousClock.now + .seconds(20)
        while servers.filter({ $0.output.contains(leaderText) }).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let leaders = servers.filter { $0.output.contains(leaderText) }
        try #require(leaders.count == 1, "leaders: \(leaders.map(\.pid)); \(servers.map(\.output))")
        let leader = leaders[0], standby = servers.first { $0 !== leader }!
        #expect(standby.output.contains("stands by"), "\(standby.output)")
        func firingCount() throws -> Int { Int(try PostgresTestServer.psql(store, "SELECT count(*) FROM trigger_firings WHERE trigger_id = '\(triggerID)'")) ?? 0 }
        deadline = ContinuousClock.now + .seconds(60)
        while try firingCount() < 30, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }

        // Kill the leader: the standby takes the role within a few seconds.
        leader.killHard()
        let killedAt = ContinuousClock.now
        deadline = killedAt + .seconds(20)
        while !standby.output.contains(leaderText), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let takeover = ContinuousClock.now - killedAt
        #expect(standby.output.contains(leaderText), "\(standby.output)")
        #expect(takeover < .seconds(5), "took \(takeover) to take over")
        let countAtTakeover = try firingCount()
        deadline = ContinuousClock.now + .seconds(60)
        while try firingCount() < countAtTakeover + 28, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try HTTP(base: try #require(standby.output.firstMatch(of: /running at (http:\/\/[0-9.:]+)/).map { String($0.1) }))
            .call("POST", "/api/v1/triggers/\(triggerID)/disable", token: token)["enabled"] == .bool(false))

        // Every second from the first firing to the last fired exactly once, including those while no server led.
        let times = try PostgresTestServer.psql(store, "SELECT (event::json->>'scheduled_at') FROM trigger_firings WHERE trigger_id = '\(triggerID)' ORDER BY 1")
            .split(separator: "\n").map(String.init)
        let formatter = ISO8601DateFormatter()
        let seconds = times.compactMap { formatter.date(from: $0).map { Int64($0.timeIntervalSince1970) } }
        #expect(seconds.count == times.count && seconds.count >= 58, "about a minute of firings: \(times)")
        #expect(Set(seconds).count == seconds.count, "a fire time fired twice: \(times)")
        if let first = seconds.first, let last = seconds.last {
            #expect(seconds == Array(first...last), "a fire time was lost: \(times)")
        }
        let runs = try PostgresTestServer.psql(store, "SELECT count(*) FROM runs WHERE trigger_id = '\(triggerID)'")
        #expect(runs == String(times.count), "one run per firing: \(runs) runs, \(times.count) firings")
        #expect(await standby.stop() == 0, "\(standby.output)")
    }
}
