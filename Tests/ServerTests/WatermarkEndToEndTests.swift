import Foundation
import HTTPTypes
import SQLiteAccess
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// A database-watermark trigger on a real PostgreSQL table starts its pipeline once, with the old watermark as a
/// parameter, and the run loads exactly the rows added since.
@Suite(.serialized)
struct WatermarkEndToEndTests {
    @Test(.timeLimit(.minutes(2)))
    func newRowsFireOnceAndTheRunLoadsExactlyThem() async throws {
        let source = try PostgresTestServer.createDatabase()
        _ = try PostgresTestServer.psql(source, """
            CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL, changed_at timestamptz NOT NULL);
            INSERT INTO orders VALUES (1, 10, '2026-03-01 10:00:00+00'), (2, 20, '2026-03-01 10:05:00+00'), (3, 30, '2026-03-01 10:10:00+00')
            """)
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        let workspace = harness.state.configuration.workspace
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            for body: JSONValue in [
                .object(["name": .string("src"), "type": .string("postgres"),
                         "settings": .object(["host": .string("127.0.0.1"), "port": .int(Int64(try PostgresTestServer.port)), "database": .string(source),
                                              "user": .string("postgres"), "sslmode": .string("disable")])]),
                .object(["name": .string("dest"), "type": .string("sqlite"), "settings": .object(["path": .string(workspace + "/dest.db")])]),
            ] {
                let created = try await client.call(.post, "/api/v1/connections", token: root, json: body)
                #expect(created.status == .created, "\(created.text)")
            }
            let document = """
                apiVersion: sluice/v1
                name: new-orders
                parameters:
                  since: {type: string, default: "1970-01-01 00:00:00+00"}
                nodes:
                  - id: src
                    type: postgres.read
                    settings:
                      connection: src
                      query: "SELECT id, amount FROM orders WHERE changed_at > CAST(:since AS timestamptz)"
                      parameters: {since: "${since}"}
                  - {id: load, type: sqlite.write, settings: {connection: dest, table: loaded}}
                edges:
                  - {from: src.out, to: load.in}
                """
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)])).body["id"]?.stringValue)
            let trigger = try await client.call(.post, "/api/v1/triggers", token: root, json: .object([
                "name": .string("orders-changed"), "kind": .string("watermark"),
                "settings": .object(["connection": .string("src"), "table": .string("public.orders"), "column": .string("changed_at"), "pollEvery": .string("1s")]),
                "pipelines": .array([.object(["pipeline_id": .string(pipeline), "parameters": .object(["since": .string("${event.old_watermark}")])])]),
            ]))
            let triggerID = try #require(trigger.body["id"]?.stringValue, "\(trigger.text)")

            // Each check uses a fresh scheduler (as after a restart): its poll is due at once.
            #expect(await harness.state.scheduler().tick().isEmpty, "the first poll records the watermark")
            _ = try PostgresTestServer.psql(source, "INSERT INTO orders VALUES (4, 40, '2026-03-01 11:00:00+00'), (5, 50, '2026-03-01 11:30:00+00')")
            let firings = await harness.state.scheduler().tick()
            #expect(firings.map(\.outcome) == ["fired"] && firings.first?.runIDs.count == 1, "\(firings)")
            let event = JSONValue.parse(firings.first?.eventJSON ?? "{}")
            #expect(event?["old_watermark"] == .string("2026-03-01 10:10:00+00") && event?["new_watermark"] == .string("2026-03-01 11:30:00+00")
                    && event?["new_rows"] == .int(2), "\(event?.text ?? "")")
            let run = try await client.finishedRun(try #require(firings.first?.runIDs.first), token: root)
            #expect(run["status"] == .string("succeeded"), "\(run.text)")
            let statement = try SQLiteDatabase(path: workspace + "/dest.db", readOnly: true).prepare("SELECT group_concat(id) FROM (SELECT id FROM loaded ORDER BY id)")
            #expect(try statement.step() && statement.text(0) == "4,5", "the run loads exactly the new rows")
            #expect(await harness.state.scheduler().tick().isEmpty, "no new rows: no second firing")
            #expect(try await harness.state.store.firings(triggerID: triggerID).count == 1)
        }
    }
}
