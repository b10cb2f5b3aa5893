import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `/api/v1/dashboard` after known runs: counts by status, success rate, failing pipelines with their error,
/// trigger health, live workers; a member sees only what is shared with them.
@Suite struct DashboardTests {
    @Test(.timeLimit(.minutes(3)))
    func theDashboardSummarisesKnownRuns() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        try FileManager.default.createDirectory(atPath: workspace + "/bad.csv/x", withIntermediateDirectories: true)
        try "id\n1\n2\n3\n".write(toFile: workspace + "/in.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            var ids: [String: String] = [:]
            for (name, output) in [("good", "out.csv"), ("broken", "bad.csv")] {
                let made = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(fileCopyPipeline(name: name, output: output))]))
                ids[name] = try #require(made.body["id"]?.stringValue, "\(made.text)")
            }
            for name in ["good", "good", "broken"] {
                let started = try await client.call(.post, "/api/v1/pipelines/\(ids[name]!)/runs", token: root, json: .object([:]))
                _ = try await client.finishedRun(try #require(started.body["id"]?.stringValue), token: root)
            }
            let trigger = try await client.call(.post, "/api/v1/triggers", token: root, json: .object([
                "name": .string("nightly-hook"), "kind": .string("webhook"), "pipelines": .array([.object(["pipeline_id": .string(ids["good"]!)])]),
            ]))
            let triggerID = try #require(trigger.body["id"]?.stringValue, "\(trigger.text)")
            let fired = try await client.call(.post, "/api/v1/triggers/\(triggerID)/fire", token: root, json: .object([:]))
            for run in fired.body["runs"]?.arrayItems.compactMap(\.stringValue) ?? [] { _ = try await client.finishedRun(run, token: root) }

            let dashboard = try await client.call(.get, "/api/v1/dashboard", token: root)
            #expect(dashboard.status == .ok, "\(dashboard.text)")
            let body = dashboard.body
            #expect(body["last_day"]?["succeeded"] == .int(3) && body["last_day"]?["failed"] == .int(1), "\(body["last_day"] ?? .null)")
            #expect(body["last_week"]?["succeeded"] == .int(3))
            let hourly = body["hourly"]?.arrayItems ?? []
            // Runs of this hour are in the last bucket (or, when the hour turned during the test, in the last two).
            let recent = hourly.suffix(2).reduce(Int64(0)) { total, bucket in
                if case let .int(n)? = bucket["counts"]?["succeeded"] { total + n } else { total }
            }
            #expect(hourly.count == 24 && recent == 3 && (hourly.last?["counts"]?["succeeded"] == .int(3) || Calendar.current.component(.minute, from: Date()) < 5),
                    "runs of this hour are in the last bucket: \(hourly.suffix(2))")
            #expect(body["daily"]?.arrayItems.count == 7)
            let pipelines = body["pipelines"]?.arrayItems ?? []
            #expect(pipelines.first?["name"] == .string("broken") && [.int(0), .double(0)].contains(pipelines.first?["success_rate"] ?? .null), "the least healthy first: \(pipelines)")
            #expect(pipelines.last?["name"] == .string("good") && [.int(1), .double(1)].contains(pipelines.last?["success_rate"] ?? .null) && pipelines.last?["runs"] == .int(3))
            let failing = body["failing"]?.arrayItems ?? []
            #expect(failing.count == 1 && failing.first?["name"] == .string("broken"), "\(failing)")
            #expect(failing.first?["error"]?.stringValue?.contains("Is a directory") == true, "\(failing)")
            #expect(body["slowest"]?.arrayItems.isEmpty == false)
            let triggers = body["triggers"]?.arrayItems ?? []
            #expect(triggers.first?["name"] == .string("nightly-hook") && triggers.first?["last_outcome"] == .string("fired") && triggers.first?["problems"] == .int(0), "\(triggers)")
            #expect(body["queue_depth"] == .int(0))
            #expect((body["workers"]?.arrayItems.count ?? 0) == 1, "the live server's worker process reports itself: \(body["workers"] ?? .null)")
            #expect(body["running"]?.arrayItems.isEmpty == true)

            // A member sees the pipelines shared with them only.
            let theirs = try await client.call(.get, "/api/v1/dashboard", token: mia)
            #expect(theirs.body["last_day"]?["succeeded"] == .int(0) && theirs.body["pipelines"]?.arrayItems.isEmpty == true && theirs.body["triggers"]?.arrayItems.isEmpty == true,
                    "\(theirs.text)")
        }
        await harness.close()
    }
}
