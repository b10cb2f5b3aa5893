import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// Server-wide notification defaults: admins only, every rule checked when saved, used by runs of pipelines
/// without `notify:` (with a link to the run page), never by pipelines that have their own.
@Suite struct NotificationDefaultsTests {
    /// What the test API received under `store`, once it holds `count` requests (or after 10 s).
    static func received(_ store: String, count: Int) async throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for _ in 0..<100 {
            rows = ((try await APITestServer.call("GET", "/hook/received?store=\(store)") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
            if rows.count >= count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return rows
    }

    @Test(.timeLimit(.minutes(3)))
    func defaultsApplyToPipelinesWithoutTheirOwnAndLinkToTheRun() async throws {
        let api = try APITestServer.server
        let store = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let harness = try await ServerHarness.make(allowPrivateNetwork: true)
        let workspace = harness.state.configuration.workspace
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try "id\n1\n2\n".write(toFile: workspace + "/in.csv", atomically: true, encoding: .utf8)
        // A directory where the output file should go: the write fails while the run executes.
        try FileManager.default.createDirectory(atPath: workspace + "/out.csv/x", withIntermediateDirectories: true)
        @Sendable func pipeline(_ name: String, notify: String = "") -> String {
            """
            apiVersion: sluice/v1
            name: \(name)
            \(notify)
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: out, type: csv.write, settings: {path: out.csv}}
            edges:
              - {from: src.out, to: out.in}
            """
        }
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("ops"), "type": .string("http"), "settings": .object(["baseUrl": .string(api.baseURL), "retries": .int(0)]),
            ]))
            #expect(created.status == .created, "\(created.text)")
            let rules: JSONValue = .object([
                "public_url": .string("https://sluice.example.com/"),
                "rules": .array([.object(["on": .array([.string("failed")]), "via": .string("webhook"), "connection": .string("ops"), "path": .string("/hook?store=\(store)")])]),
            ])
            #expect(try await client.call(.put, "/api/v1/notifications", token: mia, json: rules).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/notifications", token: mia).status == .forbidden)
            let wrongChannel = try await client.call(.put, "/api/v1/notifications", token: root, json: .object([
                "rules": .array([.object(["on": .array([.string("failed")]), "via": .string("email"), "connection": .string("ops")])]),
            ]))
            #expect(wrongChannel.status == .badRequest && wrongChannel.text.contains("rules[0].via") && wrongChannel.text.contains("notifies via webhook"), "\(wrongChannel.status) \(wrongChannel.text)")
            let unknown = try await client.call(.put, "/api/v1/notifications", token: root, json: .object([
                "rules": .array([.object(["on": .array([.string("sometimes")]), "via": .string("webhook"), "connection": .string("ops")])]),
            ]))
            #expect(unknown.status == .badRequest && unknown.text.contains("rules[0].on"), "\(unknown.text)")
            let saved = try await client.call(.put, "/api/v1/notifications", token: root, json: rules)
            #expect(saved.status == .ok && saved.body["updated_by"] == .string("root"), "\(saved.text)")
            #expect(try await client.call(.get, "/api/v1/notifications", token: root).body["rules"]?.arrayItems.count == 1)

            // A pipeline without notify: gets the default; one with its own notify: does not.
            for (name, notify) in [("plain", ""), ("own", "notify:\n  - {on: [succeeded], via: webhook, connection: ops, path: \"/hook?store=\(store)-own\"}")] {
                let made = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(pipeline(name, notify: notify))]))
                let id = try #require(made.body["id"]?.stringValue, "\(made.text)")
                let started = try await client.call(.post, "/api/v1/pipelines/\(id)/runs", token: root, json: .object([:]))
                let runID = try #require(started.body["id"]?.stringValue)
                let run = try await client.finishedRun(runID, token: root)
                #expect(run["status"] == .string("failed"))
                if name == "plain" {
                    // Notifications go out once the run is recorded as finished.
                    let hook = try await Self.received(store, count: 1)
                    #expect(hook.count == 1 && hook.first?["pipeline"] as? String == "plain", "\(hook)")
                    #expect(hook.first?["link"] as? String == "https://sluice.example.com/#/run/\(runID)", "\(hook)")
                    var logs = try await client.call(.get, "/api/v1/runs/\(runID)/logs", token: root)
                    for _ in 0..<100 where !logs.text.contains("notification through") {
                        try await Task.sleep(for: .milliseconds(100))
                        logs = try await client.call(.get, "/api/v1/runs/\(runID)/logs", token: root)
                    }
                    #expect(logs.text.contains("webhook notification through 'ops' sent (server default)"), "\(logs.text)")
                }
            }
            let own = ((try await APITestServer.call("GET", "/hook/received?store=\(store)-own") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
            #expect(own.isEmpty, "the pipeline's own notify: matched nothing (it notifies on success) and the default did not apply")
            let defaultHook = ((try await APITestServer.call("GET", "/hook/received?store=\(store)") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
            #expect(defaultHook.count == 1, "the default was not used for the pipeline with its own notify:")

            let metrics = MetricsTests.samples(try await client.call(.get, "/metrics").text)
            #expect(metrics[#"sluice_notifications_total{via="webhook",outcome="sent"}"#] == 1, "\(metrics.keys.filter { $0.contains("notif") })")
            #expect((metrics["sluice_store_transaction_duration_seconds_count"] ?? 0) > 10, "store transactions are timed")
            let tested = try await client.call(.post, "/api/v1/notifications/test", token: root, json: .object([:]))
            #expect(tested.body["results"]?.arrayItems.first?["ok"] == .bool(true), "\(tested.text)")
        }
        await harness.close()
    }

    @Test(.timeLimit(.minutes(2)))
    func aRunThatCannotStartNotifiesToo() async throws {
        let api = try APITestServer.server
        let store = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let harness = try await ServerHarness.make(allowPrivateNetwork: true)
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            _ = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("ops"), "type": .string("http"), "settings": .object(["baseUrl": .string(api.baseURL), "retries": .int(0)]),
            ]))
            let document = """
            apiVersion: sluice/v1
            name: outside
            notify:
              - {on: [failed], via: webhook, connection: ops, path: "/hook?store=\(store)"}
            nodes:
              - {id: src, type: csv.read, settings: {path: /etc/passwd}}
              - {id: out, type: csv.write, settings: {path: out.csv}}
            edges:
              - {from: src.out, to: out.in}
            """
            let made = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)]))
            let id = try #require(made.body["id"]?.stringValue, "\(made.text)")
            let started = try await client.call(.post, "/api/v1/pipelines/\(id)/runs", token: root, json: .object([:]))
            let run = try await client.finishedRun(try #require(started.body["id"]?.stringValue, "\(started.text)"), token: root)
            #expect(run["status"] == .string("failed"))
            let hook = try await Self.received(store, count: 1)
            #expect(hook.first?["pipeline"] as? String == "outside" && (hook.first?["error"] as? String ?? "").contains("outside the workspace"), "\(hook)")
        }
        await harness.close()
    }
}
