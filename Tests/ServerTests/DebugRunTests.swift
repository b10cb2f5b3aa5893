import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Synchronization
import Testing

/// Debug runs through the server: an ordinary run with a debug flag, run by a worker, paused at its breakpoints,
/// controlled by the one who started it (over the events WebSocket or the API), watched by anyone who may see it.
@Suite(.serialized)
struct DebugRunTests {
    static func document(output: String) -> String {
        """
        apiVersion: sluice/v1
        name: debugged-\(output.replacingOccurrences(of: ".csv", with: ""))
        nodes:
          - {id: orders, type: csv.read, settings: {path: orders.csv, batchRows: 100}}
          - {id: big, type: filter, settings: {where: "amount > 1000"}}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: orders.out, to: big.in}
          - {from: big.out, to: out.in}
        """
    }

    /// Waits until the run's debug state shows pause number `sequence`.
    func pause(_ client: ServerHarness.Client, _ runID: String, token: String, sequence: Int64) async throws -> JSONValue {
        // By the clock, not a count of polls: on a loaded machine each call can take a while.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let state = try await client.call(.get, "/api/v1/runs/\(runID)/debug", token: token)
            if case let .int(seen)? = state.body["paused"]?["sequence"], seen >= sequence { return state.body }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("run \(runID) did not reach pause \(sequence)")
        throw CancellationError()
    }

    @Test func aDebugRunPausesStepsContinuesAndCommitsWhenAsked() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        try ("id,amount\n" + (1...1000).map { "\($0),\($0 * 10)" }.joined(separator: "\n") + "\n").write(toFile: workspace + "/orders.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let port = try #require(client.client.port)
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document(output: "out.csv"))]))
            let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")

            let refused = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root,
                                                json: .object(["debug": .object(["breakpoints": .array([.string("nosuch:amount > 1")])])]))
            #expect(refused.status == .badRequest && refused.text.contains("there is no node 'nosuch'"), "\(refused.text)")

            let events = EventsClient(port: port, headerToken: root)
            defer { Task { await events.close() } }
            try await events.waitFor("ready") { $0.messageType == "ready" }
            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root,
                                                json: .object(["debug": .object(["breakpoints": .array([.string("big:amount > 5000")]), "commit_on_finish": .bool(true)])]))
            #expect(started.status == .created, "\(started.text)")
            let runID = try #require(started.body["id"]?.stringValue)
            #expect(started.body["debug"]?["controller"] == .string("root") && started.body["max_attempts"] == .int(1))
            events.send(.object(["type": .string("subscribe"), "run": .string(runID)]))

            // Paused before `big` takes the batch of ids 501…600: its first row met the condition.
            let first = try await pause(client, runID, token: root, sequence: 1)
            #expect(first["paused"]?["reason"] == .string("big:amount > 5000") && first["paused"]?["point"] == .string("big"))
            #expect(first["paused"]?["matching_row"] == .int(0) && first["paused"]?["batch_rows"] == .int(100))
            #expect(first["paused"]?["rows"]?.arrayItems.first == .array([.int(501), .int(5010)]))
            #expect(first["paused"]?["columns"]?.arrayItems.map { $0["name"]?.stringValue ?? "" } == ["id", "amount"])
            try await events.waitFor("paused update") { $0["update"]?["kind"] == .string("debug") && $0["update"]?["debug"]?["state"] == .string("paused") }

            // Someone else who may run the pipeline still may not drive this run; they see it, though.
            let shared = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("runner")]))
            #expect(shared.status == .noContent || shared.status == .ok, "\(shared.text)")
            let seen = try await client.call(.get, "/api/v1/runs/\(runID)/debug", token: mia)
            #expect(seen.status == .ok && seen.body["paused"]?["sequence"] == .int(1), "\(seen.text)")
            let foreign = try await client.call(.post, "/api/v1/runs/\(runID)/debug", token: mia, json: .object(["command": .string("step")]))
            #expect(foreign.status == .forbidden && foreign.text.contains("only root"), "\(foreign.text)")

            // Step over the WebSocket: the next batch at the same point pauses.
            events.send(.object(["type": .string("debug"), "run": .string(runID), "command": .string("step")]))
            try await events.waitFor("debugged") { $0.messageType == "debugged" }
            let second = try await pause(client, runID, token: root, sequence: 2)
            #expect(second["paused"]?["reason"] == .string("step") && second["paused"]?["rows"]?.arrayItems.first == .array([.int(601), .int(6010)]))

            // Continue through the API: every later batch holds a matching row (701…, 801…, 901…).
            for sequence in 3...5 {
                let go = try await client.call(.post, "/api/v1/runs/\(runID)/debug", token: root, json: .object(["command": .string("continue")]))
                #expect(go.status == .ok, "\(go.text)")
                _ = try await pause(client, runID, token: root, sequence: Int64(sequence))
            }
            _ = try await client.call(.post, "/api/v1/runs/\(runID)/debug", token: root, json: .object(["command": .string("continue")]))
            let run = try await client.finishedRun(runID, token: root)
            #expect(run["status"] == .string("succeeded"), "\(run)")
            let written = try String(contentsOfFile: workspace + "/out.csv", encoding: .utf8)
            #expect(written == "id,amount\n" + (101...1000).map { "\($0),\($0 * 10)" }.joined(separator: "\n") + "\n", "exactly a normal run's output")
            let after = try await client.call(.get, "/api/v1/runs/\(runID)/debug", token: root)
            #expect(after.body["paused"] == nil || after.body["paused"] == .null)
            let late = try await client.call(.post, "/api/v1/runs/\(runID)/debug", token: root, json: .object(["command": .string("step")]))
            #expect(late.status == .conflict)
        }
        await harness.close()
    }

    @Test func stopCancelsADebugRunAndWithoutCommitNothingIsWritten() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        try ("id,amount\n" + (1...1000).map { "\($0),\($0 * 10)" }.joined(separator: "\n") + "\n").write(toFile: workspace + "/orders.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document(output: "stopped.csv"))]))
            let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")
            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root,
                                                json: .object(["debug": .object(["breakpoints": .array([.string("big.out->out.in"), .string("orders")]), "commit_on_finish": .bool(true)])]))
            let runID = try #require(started.body["id"]?.stringValue, "\(started.text)")
            _ = try await pause(client, runID, token: root, sequence: 1)
            let stop = try await client.call(.post, "/api/v1/runs/\(runID)/debug", token: root, json: .object(["command": .string("stop")]))
            #expect(stop.status == .ok, "\(stop.text)")
            let run = try await client.finishedRun(runID, token: root)
            #expect(run["status"] == .string("cancelled"), "\(run)")
            #expect(!FileManager.default.fileExists(atPath: workspace + "/stopped.csv"), "the sink rolled back")

            let plain = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object(["debug": .object(["breakpoints": .array([])])]))
            let plainID = try #require(plain.body["id"]?.stringValue, "\(plain.text)")
            let finished = try await client.finishedRun(plainID, token: root)
            #expect(finished["status"] == .string("succeeded"))
            #expect(!FileManager.default.fileExists(atPath: workspace + "/stopped.csv"), "a debug run commits nothing unless asked")
            let logs = try await client.call(.get, "/api/v1/runs/\(plainID)/logs", token: root)
            #expect(logs.text.contains("output not committed"))
        }
        await harness.close()
    }

    /// A server shutting down gracefully lets ordinary runs finish, but does not wait on a debug run paused at a
    /// breakpoint (nobody may ever answer it): the run is stopped, ends cancelled, and the shutdown completes.
    @Test func aShutdownStopsADebugRunWaitingAtABreakpoint() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        try ("id,amount\n" + (1...1000).map { "\($0),\($0 * 10)" }.joined(separator: "\n") + "\n").write(toFile: workspace + "/orders.csv", atomically: true, encoding: .utf8)
        let runBox = Box<String>()
        let ended = Mutex(false)
        let served = Task {
            defer { ended.withLock { $0 = true } }
            try await harness.withLiveServer(workers: 1) { client in
                let (root, _) = try await client.login("root", ServerHarness.adminPassword)
                let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document(output: "shutdown.csv"))]))
                let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")
                let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root,
                                                    json: .object(["debug": .object(["breakpoints": .array([.string("orders")]), "commit_on_finish": .bool(true)])]))
                let runID = try #require(started.body["id"]?.stringValue, "\(started.text)")
                runBox.value = runID
                _ = try await pause(client, runID, token: root, sequence: 1)
                // Returning shuts the server down gracefully while the run waits at its breakpoint.
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while !ended.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(ended.withLock { $0 }, "the shutdown waited on the paused debug run")
        guard ended.withLock({ $0 }) else { return }
        try await served.value
        let run = try #require(try await harness.state.store.run(id: runBox.value))
        #expect(run.phase == .cancelled, "\(run.phase)")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/shutdown.csv"), "the stopped run commits nothing")
        let logs = try await harness.state.store.logs(runID: runBox.value, afterSeq: 0, limit: 1000)
        #expect(logs.contains { $0.message.contains("shutting down: the debug run stops") }, "\(logs)")
        await harness.close()
    }
}
