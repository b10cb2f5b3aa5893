import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// Cancelling a running run through the API stops it at once: its worker hears the run's status announced on the
/// event bus instead of waiting for its next heartbeat.
@Suite struct RunCancelTests {
    @Test func aCancelledRunStopsWithinSecondsNotAtTheNextHeartbeat() async throws {
        // Heartbeats every 40 s: a cancel seen only by the heartbeat would take that long.
        let harness = try await ServerHarness.make { $0.leaseMillis = 120_000 }
        let workspace = harness.state.configuration.workspace
        _ = try runProcess("/usr/bin/sqlite3", [workspace + "/endless.db", "CREATE TABLE unused (x INTEGER);"])
        let document = """
        apiVersion: sluice/v1
        name: endless
        nodes:
          - {id: counting, type: sqlite.read, settings: {connection: endless, query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"}}
          - {id: none, type: filter, settings: {where: "x < 0"}}
          - {id: out, type: csv.write, settings: {path: never.csv}}
        edges:
          - {from: counting.out, to: none.in}
          - {from: none.out, to: out.in}
        """
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let connection = try await client.call(.post, "/api/v1/connections", token: root,
                                                   json: .object(["name": .string("endless"), "type": .string("sqlite"), "settings": .object(["path": .string("endless.db")])]))
            #expect(connection.status == .created, "\(connection.text)")
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)]))
            let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")
            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root)
            let runID = try #require(started.body["id"]?.stringValue, "\(started.text)")
            // Running (then a moment to be reading rows).
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let run = try await client.call(.get, "/api/v1/runs/\(runID)", token: root).body
                if run["status"]?.stringValue == "running" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .seconds(1))
            let asked = ContinuousClock.now
            #expect(try await client.call(.post, "/api/v1/runs/\(runID)/cancel", token: root).status == .ok)
            var run = JSONValue.null
            while ContinuousClock.now - asked < .seconds(60) {
                run = try await client.call(.get, "/api/v1/runs/\(runID)", token: root).body
                if run["status"]?.stringValue != "running" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let took = ContinuousClock.now - asked
            #expect(run["status"]?.stringValue == "cancelled", "\(run.text)")
            #expect(took < .seconds(15), "the run stopped \(took) after the cancel (heartbeats come every 40 s)")
            #expect(!FileManager.default.fileExists(atPath: workspace + "/never.csv"))
        }
        await harness.close()
    }
}
