import Foundation
import HTTPTypes
import SQLiteAccess
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `POST /api/v1/runs/{id}/replay`: rejected records go back through the fixed pipeline and land once.
@Suite(.serialized)
struct ReplayTests {
    @Test
    func rejectsReplayThroughTheFixedPipeline() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        try "id,amount\n1,10\n2,0\n3,5\n".write(toFile: workspace + "/in.csv", atomically: true, encoding: .utf8)
        try "id,amount\n1,10\n2,x\n".write(toFile: workspace + "/raw.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let dest = try await client.call(.post, "/api/v1/connections", token: root,
                                             json: .object(["name": .string("dest"), "type": .string("sqlite"), "settings": .object(["path": .string(workspace + "/dest.db")])]))
            #expect(dest.status == .created, "\(dest.text)")
            func pipeline(_ ratio: String) -> String {
                """
                apiVersion: sluice/v1
                name: ratios
                nodes:
                  - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64}}}
                  - {id: calc, type: compute, settings: {columns: {ratio: "\(ratio)"}}}
                  - {id: load, type: sqlite.write, settings: {connection: dest, table: t}}
                edges:
                  - {from: src.out, to: calc.in}
                  - {from: calc.out, to: load.in}
                """
            }
            func runToEnd(_ started: (status: HTTPResponse.Status, body: JSONValue, text: String)) async throws -> JSONValue {
                try await client.finishedRun(try #require(started.body["id"]?.stringValue, "\(started.text)"), token: root)
            }
            func rows(_ sql: String) throws -> String {
                let statement = try SQLiteDatabase(path: workspace + "/dest.db", readOnly: true).prepare(sql)
                return try statement.step() ? statement.text(0) : ""
            }

            // 1. Division by zero: one record rejected by `calc`.
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(pipeline("100 / amount"))]))
            let id = try #require(created.body["id"]?.stringValue)
            let first = try await runToEnd(try await client.call(.post, "/api/v1/pipelines/\(id)/runs", token: root, json: .object([:])))
            #expect(first["status"] == .string("succeeded") && first["rejected"] == .int(1), "\(first.text)")
            let firstID = try #require(first["id"]?.stringValue)
            #expect(try rows("SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY id)") == "1,3")

            // 2. Fix the expression, then replay: only the rejected record goes through, and lands once.
            let saved = try await client.call(.put, "/api/v1/pipelines/\(id)", token: root,
                                              json: .object(["document": .string(pipeline("100 / nullif(amount, 0)")), "base_revision": .int(1), "message": .string("fix")]))
            #expect(saved.status == .ok, "\(saved.text)")
            let replayStarted = try await client.call(.post, "/api/v1/runs/\(firstID)/replay", token: root, json: .object([:]))
            #expect(replayStarted.status == .created && replayStarted.body["replay_of"] == .string(firstID), "\(replayStarted.text)")
            let replay = try await runToEnd(replayStarted)
            #expect(replay["status"] == .string("succeeded") && replay["rejected"] == .int(0), "\(replay.text)")
            #expect(replay["nodes"]?.arrayItems.map { $0["node"]?.stringValue ?? "" }.sorted() == ["calc", "load", "replay__calc"])
            #expect(try rows("SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY id)") == "1,2,3")
            #expect(try rows("SELECT coalesce(ratio, 'null') FROM t WHERE id = 2") == "null")
            let logs = try await client.call(.get, "/api/v1/runs/\(replay["id"]?.stringValue ?? "")/logs", token: root)
            #expect(logs.text.contains("calc: receiving its 1 rejected row(s) again"), "\(logs.text)")
            // A run without rejects has nothing to replay.
            let clean = try await client.call(.post, "/api/v1/runs/\(replay["id"]?.stringValue ?? "")/replay", token: root, json: .object([:]))
            #expect(clean.status == .unprocessableContent && clean.body["error"]?["code"] == .string("nothing_to_replay"))

            // 3. A line the CSV source could not parse is read again with the fixed schema; the file sink writes a sibling file.
            func rawPipeline(_ amountType: String) -> String {
                """
                apiVersion: sluice/v1
                name: raw
                nodes:
                  - {id: src, type: csv.read, settings: {path: raw.csv, schema: {id: int64, amount: \(amountType)}}}
                  - {id: out, type: csv.write, settings: {path: out.csv}}
                edges:
                  - {from: src.out, to: out.in}
                """
            }
            let raw = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(rawPipeline("int64"))])).body["id"]?.stringValue)
            let rawRun = try await runToEnd(try await client.call(.post, "/api/v1/pipelines/\(raw)/runs", token: root, json: .object([:])))
            #expect(rawRun["rejected"] == .int(1), "\(rawRun.text)")
            _ = try await client.call(.put, "/api/v1/pipelines/\(raw)", token: root,
                                      json: .object(["document": .string(rawPipeline("string")), "base_revision": .int(1)]))
            let rawReplay = try await runToEnd(try await client.call(.post, "/api/v1/runs/\(rawRun["id"]?.stringValue ?? "")/replay", token: root, json: .object([:])))
            #expect(rawReplay["status"] == .string("succeeded") && rawReplay["rejected"] == .int(0), "\(rawReplay.text)")
            let replayID = rawReplay["id"]?.stringValue ?? ""
            #expect(try String(contentsOfFile: workspace + "/out.csv", encoding: .utf8) == "id,amount\n1,10\n")
            #expect(try String(contentsOfFile: workspace + "/out.replay-\(replayID.prefix(8)).csv", encoding: .utf8) == "id,amount\n2,x\n")
        }
        await harness.close()
    }
}
