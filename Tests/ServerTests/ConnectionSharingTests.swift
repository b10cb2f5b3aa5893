import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// Connections have owners and shares: a member names in pipelines only the connections they own, that are
/// shared with them, or that an admin shared with everyone; runs act as their requester, triggers as their
/// creator; every refusal is 403 `connection_forbidden` naming the connection, and audited.
@Suite struct ConnectionSharingTests {
    static func pipeline(connection: String) -> String {
        """
        apiVersion: sluice/v1
        name: uses-\(connection)
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: \(connection), query: "SELECT id, name FROM customers"}}
          - {id: out, type: csv.write, settings: {path: out-\(connection).csv}}
        edges:
          - {from: src.out, to: out.in}
        """
    }

    @Test func membersUseOnlyConnectionsTheyOwnOrThatAreSharedWithThem() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        let workspace = harness.state.configuration.workspace
        _ = try runProcess("/usr/bin/sqlite3", [workspace + "/shop.db", "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ada');"])
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            #expect(try await client.call(.post, "/api/v1/users", token: root,
                                          json: .object(["name": .string("ben"), "password": .string("ben-password-1"), "role": .string("member")])).status == .created)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let (ben, _) = try await client.login("ben", "ben-password-1")
            let lookup = try await client.call(.get, "/api/v1/users/lookup?q=ben", token: mia).body
            guard case let .array(found) = lookup, let benID = found.first?["id"]?.stringValue else { Issue.record("ben not found: \(lookup)"); return }

            let created = try await client.call(.post, "/api/v1/connections", token: mia,
                                                json: .object(["name": .string("shop"), "type": .string("sqlite"), "settings": .object(["path": .string("shop.db")])]))
            #expect(created.status == .created && created.body["role"] == .string("owner"), "\(created.text)")
            let id = try #require(created.body["id"]?.stringValue)

            // Not shared: ben does not see it, and naming it in a preview, a validation or a run is refused.
            #expect(try await client.call(.get, "/api/v1/connections", token: ben).body == .array([]))
            #expect(try await client.call(.get, "/api/v1/connections/\(id)", token: ben).status == .notFound)
            let preview = try await client.call(.post, "/api/v1/pipelines/preview", token: ben,
                                                json: .object(["document": .string(Self.pipeline(connection: "shop")), "node": .string("src")]))
            #expect(preview.status == .forbidden && preview.body["error"]?["code"] == .string("connection_forbidden") && preview.text.contains("'shop'"), "\(preview.text)")
            let validate = try await client.call(.post, "/api/v1/pipelines/validate", token: ben, json: .object(["document": .string(Self.pipeline(connection: "shop"))]))
            #expect(validate.status == .forbidden, "\(validate.text)")
            let saved = try await client.call(.post, "/api/v1/pipelines", token: ben, json: .object(["document": .string(Self.pipeline(connection: "shop"))]))
            let pipelineID = try #require(saved.body["id"]?.stringValue, "\(saved.text)")
            let run = try await client.call(.post, "/api/v1/pipelines/\(pipelineID)/runs", token: ben)
            let runID = try #require(run.body["id"]?.stringValue, "\(run.text)")
            let finished = try await client.finishedRun(runID, token: ben)
            #expect(finished["status"] == .string("failed") && finished["error"]?.stringValue?.contains("may not use connection 'shop'") == true, "\(finished)")

            // Shared as user: ben uses it but cannot change it.
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/shares/\(benID)", token: ben, json: .object(["role": .string("user")])).status == .notFound)
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/shares/\(benID)", token: mia, json: .object(["role": .string("user")])).status == .noContent)
            let allowed = try await client.call(.post, "/api/v1/pipelines/preview", token: ben,
                                                json: .object(["document": .string(Self.pipeline(connection: "shop")), "node": .string("src")]))
            #expect(allowed.status == .ok && allowed.text.contains("Ada"), "\(allowed.text)")
            let rerun = try #require(try await client.call(.post, "/api/v1/pipelines/\(pipelineID)/runs", token: ben).body["id"]?.stringValue)
            #expect(try await client.finishedRun(rerun, token: ben)["status"] == .string("succeeded"))
            let change = JSONValue.object(["name": .string("shop"), "type": .string("sqlite"), "settings": .object(["path": .string("other.db")])])
            #expect(try await client.call(.put, "/api/v1/connections/\(id)", token: ben, json: change).status == .forbidden)
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/shares/\(benID)", token: ben, json: .object(["role": .string("editor")])).status == .forbidden)

            // As editor ben may change it, still not delete it; only an admin shares with everyone.
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/shares/\(benID)", token: mia, json: .object(["role": .string("editor")])).status == .noContent)
            #expect(try await client.call(.put, "/api/v1/connections/\(id)", token: ben, json: change).status == .ok)
            #expect(try await client.call(.delete, "/api/v1/connections/\(id)", token: ben).status == .forbidden)
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/everyone", token: mia, json: .object(["shared": .bool(true)])).status == .forbidden)
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/everyone", token: root, json: .object(["shared": .bool(true)])).status == .noContent)
            let shares = try await client.call(.get, "/api/v1/connections/\(id)/shares", token: ben)
            #expect(shares.body["owner"] == .string("mia") && shares.body["shared_with_everyone"] == .bool(true)
                    && shares.body["shares"] == .array([.object(["user_id": .string(benID), "user_name": .string("ben"), "role": .string("editor")])]), "\(shares.text)")

            let audit = try await client.call(.get, "/api/v1/audit", token: root)
            #expect(audit.text.contains("connection_forbidden") && audit.text.contains("connection_share_everyone"), "\(audit.text.prefix(600))")
        }
    }

    @Test func aTriggerOnSomeoneElsesConnectionIsRefused() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            #expect(try await client.call(.post, "/api/v1/connections", token: root,
                                          json: .object(["name": .string("prod"), "type": .string("sqlite"), "settings": .object(["path": .string("prod.db")])])).status == .created)
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: mia,
                                                              json: .object(["document": .string(Self.pipeline(connection: "mine"))])).body["id"]?.stringValue)
            let trigger = try await client.call(.post, "/api/v1/triggers", token: mia, json: .object([
                "name": .string("watch-prod"), "kind": .string("watermark"),
                "settings": .object(["connection": .string("prod"), "query": .string("SELECT max(id) FROM t")]),
                "pipelines": .array([.object(["pipeline_id": .string(pipeline)])]),
            ]))
            #expect(trigger.status == .forbidden && trigger.body["error"]?["code"] == .string("connection_forbidden"), "\(trigger.text)")
        }
    }
}
