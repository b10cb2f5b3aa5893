import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `GET /api/v1/events`: a real WebSocket on loopback; authentication, sharing, and runs seen live.
@Suite(.serialized)
struct EventTests {
    @Test
    func subscribersSeeLiveProgressOfRunsTheyMaySee() async throws {
        let harness = try await ServerHarness.make()
        try "id,amount\n1,10\n2,20\n".write(toFile: harness.state.configuration.workspace + "/in.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let port = try #require(client.client.port)
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(fileCopyPipeline())]))
            let pipeline = try #require(created.body["id"]?.stringValue)

            // A plain GET is told to upgrade; a bad token in the upgrade request is refused.
            let plain = try await client.call(.get, "/api/v1/events", token: root)
            #expect(plain.status == .upgradeRequired && plain.body["error"]?["code"] == .string("upgrade_required"))
            let refused = EventsClient(port: port, headerToken: "garbage")
            #expect(await refused.closedByServer(within: .seconds(10)))
            #expect(refused.messages.isEmpty)

            // The owner authenticates in the upgrade request; the member with a first message, as a browser does.
            let owner = EventsClient(port: port, headerToken: root)
            try await owner.waitFor("ready") { $0.messageType == "ready" && $0["user"] == .string("root") }
            owner.send(.object(["type": .string("subscribe"), "pipeline": .string(pipeline)]))
            try await owner.waitFor("subscribed") { $0.messageType == "subscribed" }

            let member = EventsClient(port: port)
            member.send(.object(["type": .string("subscribe"), "all": .bool(true)]))
            try await member.waitFor("unauthenticated error") { $0["error"]?["code"] == .string("unauthenticated") }
            member.send(.object(["type": .string("auth"), "token": .string(mia)]))
            try await member.waitFor("ready") { $0.messageType == "ready" && $0["user"] == .string("mia") }
            member.send(.object(["type": .string("subscribe"), "pipeline": .string(pipeline)]))
            try await member.waitFor("not shared") { $0["error"]?["code"] == .string("not_found") }
            member.send(.object(["type": .string("subscribe"), "all": .bool(true)]))
            try await member.waitFor("subscribed all") { $0.messageType == "subscribed" && $0["all"] == .bool(true) }
            member.send(.object(["type": .string("bogus")]))
            try await member.waitFor("unknown type error") { $0["error"]?["field"] == .string("type") }

            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
            let runID = try #require(started.body["id"]?.stringValue)
            try await owner.waitFor("running") { $0.updateKind == "status" && $0["update"]?["phase"] == .string("running") }
            let progress = try await owner.waitFor("progress with counters") {
                $0.updateKind == "progress" && $0["update"]?["nodes"]?.arrayItems.contains { $0["node"] == .string("out") && $0["records_in"] == .int(2) } == true
            }
            #expect(progress["update"]?["run_id"] == .string(runID))
            try await owner.waitFor("log line") { $0.updateKind == "log" && $0["update"]?["log"]?["message"] == .string("committed") }
            let finished = try await owner.waitFor("finished") { $0.updateKind == "finished" }
            #expect(finished["update"]?["phase"] == .string("succeeded"))

            // A late subscriber to the run gets its current state at once.
            owner.send(.object(["type": .string("subscribe"), "run": .string(runID)]))
            let snapshot = try await owner.waitFor("snapshot") { $0.messageType == "snapshot" }
            #expect(snapshot["run"]?["status"] == .string("succeeded") && snapshot["run"]?["nodes"]?.arrayItems.count == 2)

            // The member, subscribed to all runs, saw none of a pipeline not shared with them.
            #expect(!member.messages.contains { $0.messageType == "update" })

            // Once shared, the member sees the next run.
            let share = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root,
                                              json: .object(["role": .string("viewer")]))
            #expect(share.status == .ok || share.status == .noContent, "\(share.text)")
            member.send(.object(["type": .string("subscribe"), "pipeline": .string(pipeline)]))
            try await member.waitFor("subscribed pipeline") { $0.messageType == "subscribed" && $0["pipeline"] == .string(pipeline) }
            _ = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
            try await member.waitFor("finished after sharing") { $0.updateKind == "finished" }

            await member.close()
            await owner.close()
        }
        await harness.close()
    }

    @Test
    func aClientOnOneProcessSeesARunExecutedByAnotherProcess() async throws {
        let database = try PostgresTestServer.createDatabase()
        let url = "postgres://postgres@127.0.0.1:\(try PostgresTestServer.port)/\(database)"
        let harness = try await ServerHarness.make(store: try StoreLocation.parse(url))
        let bus = try #require(harness.state.bus as? PostgresEventBus, "a PostgreSQL store carries events over LISTEN/NOTIFY")
        try "id,amount\n1,10\n2,20\n3,30\n".write(toFile: harness.state.configuration.workspace + "/in.csv", atomically: true, encoding: .utf8)
        // The API server here has no workers; a separate `sluice worker` process executes the run.
        let worker = try ChildProcess(SluiceBinary.path, ["worker", "--store", url, "--data-dir", harness.directory.path, "--workers", "1"],
                                      logPath: harness.directory.file("worker.log"))
        #expect(await worker.waitForOutput("Sluice worker"), "\(worker.output)")
        try await harness.withLiveServer(workers: 0) { client in
            let port = try #require(client.client.port)
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(fileCopyPipeline())]))
            let pipeline = try #require(created.body["id"]?.stringValue)
            let watcher = EventsClient(port: port, headerToken: root)
            watcher.send(.object(["type": .string("subscribe"), "pipeline": .string(pipeline)]))
            try await watcher.waitFor("subscribed") { $0.messageType == "subscribed" }
            for _ in 0..<200 where !bus.isListening { try await Task.sleep(for: .milliseconds(25)) }

            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
            let runID = try #require(started.body["id"]?.stringValue)
            try await watcher.waitFor("running, from the worker process") { $0.updateKind == "status" && $0["update"]?["phase"] == .string("running") }
            try await watcher.waitFor("progress") {
                $0.updateKind == "progress" && $0["update"]?["nodes"]?.arrayItems.contains { $0["records_out"] == .int(3) } == true
            }
            try await watcher.waitFor("log") { $0.updateKind == "log" }
            let finished = try await watcher.waitFor("finished") { $0.updateKind == "finished" }
            #expect(finished["update"]?["phase"] == .string("succeeded") && finished["update"]?["run_id"] == .string(runID))
            // It really ran in the other process.
            let logs = try await client.call(.get, "/api/v1/runs/\(runID)/logs", token: root)
            #expect(logs.body["finished"] == .bool(true))
            #expect(try String(contentsOfFile: harness.state.configuration.workspace + "/out.csv", encoding: .utf8) == "id,amount\n1,10\n2,20\n3,30\n")
            await watcher.close()
        }
        #expect(await worker.stop() == 0, "\(worker.output)")
        await harness.close()
    }
}
