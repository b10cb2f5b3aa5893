import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// A run of SQL models on the server: each model and test is a step, streamed live over the events WebSocket and
/// kept with the run (`GET /api/v1/runs/{id}/steps`), with the SQL of a failure; only those who may see the run see them.
@Suite(.serialized)
struct RunStepRouteTests {
    @Test func modelStepsStreamLiveAndStayWithTheRun() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        let models = workspace + "/models"
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try "-- materialized: table\nselect id, amount from raw where amount > 0\n".write(toFile: models + "/clean.sql", atomically: true, encoding: .utf8)
        try "select sum(amount) as total from {{ ref('clean') }}\n".write(toFile: models + "/total.sql", atomically: true, encoding: .utf8)
        try "select id, amout from {{ ref('clean') }}\n".write(toFile: models + "/typo.sql", atomically: true, encoding: .utf8)
        try "models:\n  - name: clean\n    columns:\n      - name: id\n        tests: [unique]\n".write(toFile: models + "/schema.yaml", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let connection = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("wh"), "type": .string("sqlite"), "settings": .object(["path": .string("wh.db")])]))
            #expect(connection.status == .created, "\(connection.text)")
            let document = """
                apiVersion: sluice/v1
                name: warehouse
                nodes:
                  - {id: setup, type: sql.run, settings: {connection: wh, sql: "DROP TABLE IF EXISTS raw; CREATE TABLE raw (id INTEGER, amount REAL); INSERT INTO raw VALUES (1, 5), (2, -1), (3, 7)"}}
                  - {id: build, type: sql.models, settings: {connection: wh, path: models}}
                edges:
                  - {from: setup.done, to: build.start, kind: signal}
                """
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)]))
            let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")

            let watcher = EventsClient(port: try #require(client.client.port), headerToken: root)
            defer { Task { await watcher.close() } }
            try await watcher.waitFor("ready") { $0.messageType == "ready" }
            watcher.send(.object(["type": .string("subscribe"), "pipeline": .string(pipeline)]))
            try await watcher.waitFor("subscribed") { $0.messageType == "subscribed" }
            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
            let runID = try #require(started.body["id"]?.stringValue)
            let live = try await watcher.waitFor("a step") {
                $0.updateKind == "step" && $0["update"]?["step"]?["step"]?["name"] == .string("clean") && $0["update"]?["step"]?["step"]?["status"] == .string("succeeded")
            }
            #expect(live["update"]?["step"]?["node"] == .string("build"), "\(live)")
            let run = try await client.finishedRun(runID, token: root)
            #expect(run["status"] == .string("failed"), "typo.sql fails: \(run)")

            let steps = try await client.call(.get, "/api/v1/runs/\(runID)/steps", token: root)
            #expect(steps.status == .ok, "\(steps.text)")
            let items = steps.body["steps"]?.arrayItems ?? []
            let byName = Dictionary(uniqueKeysWithValues: items.map { ($0["name"]?.stringValue ?? "", $0) })
            #expect(byName["clean"]?["status"] == .string("succeeded") && byName["clean"]?["rows"] == .int(2) && byName["clean"]?["kind"] == .string("table"), "\(items)")
            #expect(byName["unique(clean.id)"]?["status"] == .string("succeeded"))
            #expect(byName["total"]?["status"] == .string("succeeded") && byName["total"]?["kind"] == .string("view"))
            #expect(byName["typo"]?["status"] == .string("failed"))
            #expect(byName["typo"]?["message"]?.stringValue?.contains("models/typo.sql") == true, "\(byName["typo"] ?? .null)")
            #expect(byName["typo"]?["sql"]?.stringValue?.contains("amout") == true)
            #expect(items.first?["name"] == .string("clean"), "steps are listed in the order they started")

            let hidden = try await client.call(.get, "/api/v1/runs/\(runID)/steps", token: mia)
            #expect(hidden.status == .notFound || hidden.status == .forbidden, "\(hidden.status)")
            let deleted = try await client.call(.delete, "/api/v1/pipelines/\(pipeline)", token: root)
            #expect(deleted.status == .noContent || deleted.status == .ok)
            #expect(try await harness.state.store.steps(runID: runID).isEmpty)
        }
        await harness.close()
    }
}
