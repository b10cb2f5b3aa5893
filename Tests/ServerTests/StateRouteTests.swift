import Foundation
import SQLiteAccess
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `GET /api/v1/pipelines/{id}/state` and `DELETE …/state/{node}`: an incremental PostgreSQL source into a SQLite destination.
@Suite(.serialized)
struct StateRouteTests {
    @Test
    func incrementalStateIsVisibleAndResetReSyncsTheTable() async throws {
        let source = try PostgresTestServer.createDatabase()
        try PostgresTestServer.psql(source, "CREATE TABLE src (id int PRIMARY KEY, updated_at int NOT NULL); INSERT INTO src VALUES (1, 10), (2, 20), (3, 30)")
        let harness = try await ServerHarness.make()
        let destination = harness.state.configuration.workspace + "/dest.db"
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            for body: JSONValue in [
                .object(["name": .string("pg"), "type": .string("postgres"),
                         "settings": .object(["host": .string("127.0.0.1"), "port": .int(Int64(try PostgresTestServer.port)), "database": .string(source),
                                              "user": .string("postgres"), "sslmode": .string("disable")])]),
                .object(["name": .string("dest"), "type": .string("sqlite"), "settings": .object(["path": .string(destination)])]),
            ] {
                let created = try await client.call(.post, "/api/v1/connections", token: root, json: body)
                #expect(created.status == .created, "\(created.text)")
            }
            let document = """
                apiVersion: sluice/v1
                name: resync
                nodes:
                  - {id: src, type: postgres.read, settings: {connection: pg, table: src, mode: incremental, cursor: updated_at, key: [id]}}
                  - {id: load, type: sqlite.write, settings: {connection: dest, table: copy}}
                edges:
                  - {from: src.out, to: load.in}
                """
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)])).body["id"]?.stringValue)
            func runToEnd() async throws -> String {
                let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
                let id = try #require(started.body["id"]?.stringValue, "\(started.text)")
                return try await client.finishedRun(id, token: root)["status"]?.stringValue ?? "timeout"
            }
            func rows() throws -> Int {
                let statement = try SQLiteDatabase(path: destination, readOnly: true).prepare("SELECT count(*) FROM copy")
                _ = try statement.step()
                return Int(statement.int(0))
            }

            let before = try await client.call(.get, "/api/v1/pipelines/\(pipeline)/state", token: root)
            #expect(before.status == .ok && before.body.arrayItems.count == 1, "\(before.text)")
            #expect(before.body.arrayItems.first?["node"] == .string("src") && before.body.arrayItems.first?["store"] == .string("load"))
            #expect(before.body.arrayItems.first?["state"] == nil || before.body.arrayItems.first?["state"] == .null)

            #expect(try await runToEnd() == "succeeded")
            let after = try await client.call(.get, "/api/v1/pipelines/\(pipeline)/state", token: root)
            let committed = try #require(after.body.arrayItems.first?["state"], "\(after.text)")
            #expect(committed.text.contains("30"), "the cursor is the last updated_at: \(committed.text)")
            #expect(try await runToEnd() == "succeeded")
            #expect(try rows() == 3, "the second run read nothing new")

            // Only the pipeline's editors may reset it; unknown nodes are 404.
            #expect(try await client.call(.delete, "/api/v1/pipelines/\(pipeline)/state/src", token: mia).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/pipelines/\(pipeline)/state/nope", token: root).status == .notFound)
            let reset = try await client.call(.delete, "/api/v1/pipelines/\(pipeline)/state/src", token: root)
            #expect(reset.status == .ok && reset.body["reset_in"] == .array([.string("load")]), "\(reset.text)")
            let cleared = try await client.call(.get, "/api/v1/pipelines/\(pipeline)/state", token: root)
            #expect(cleared.body.arrayItems.first?["state"] == nil || cleared.body.arrayItems.first?["state"] == .null)
            #expect(try await runToEnd() == "succeeded")
            #expect(try rows() == 6, "after the reset the next run re-read the whole table")
            let audit = try await client.call(.get, "/api/v1/audit", token: root)
            #expect(audit.text.contains("state_reset"))
        }
        await harness.close()
    }
}

/// A run that needs a sealed secret while the vault is locked fails at once with "vault is locked".
@Suite(.serialized)
struct LockedVaultRunTests {
    @Test
    func aRunNeedingASecretFailsWithVaultIsLocked() async throws {
        let source = try PostgresTestServer.createDatabase()
        try PostgresTestServer.psql(source, "CREATE TABLE src (id int)")
        let harness = try await ServerHarness.make()
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let created = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("pg"), "type": .string("postgres"),
                "settings": .object(["host": .string("127.0.0.1"), "port": .int(Int64(try PostgresTestServer.port)), "database": .string(source),
                                     "user": .string("postgres"), "sslmode": .string("disable")]),
                "secrets": .object(["password": .string("locked-vault-secret")]),
            ]))
            #expect(created.status == .created, "\(created.text)")
            let document = """
                apiVersion: sluice/v1
                name: needs-secret
                nodes:
                  - {id: src, type: postgres.read, settings: {connection: pg, table: src}}
                  - {id: out, type: csv.write, settings: {path: out.csv}}
                edges:
                  - {from: src.out, to: out.in}
                """
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)])).body["id"]?.stringValue)
            #expect(try await client.call(.post, "/api/v1/vault/lock", token: root).body["status"] == .string("locked"))
            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
            let runID = try #require(started.body["id"]?.stringValue, "\(started.text)")
            let run = try await client.finishedRun(runID, token: root)
            #expect(run["status"] == .string("failed"))
            let error = run["error"]?.stringValue ?? ""
            #expect(error.contains("vault is locked") && !error.lowercased().contains("decrypt") && !error.contains("locked-vault-secret"), "\(error)")
            #expect(run["attempt"] == .int(1), "a locked vault is not retried: an admin must act")
        }
        await harness.close()
    }
}
