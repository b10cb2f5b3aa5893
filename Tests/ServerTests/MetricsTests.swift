import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `/metrics` after known runs: the values are what happened (parsed from the exposition format).
@Suite struct MetricsTests {
    /// `name{labels} value` lines, keyed by the text before the value.
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    @Test(.timeLimit(.minutes(3)))
    func runsRecordsAndTheQueueAreCounted() async throws {
        let harness = try await ServerHarness.make()
        try FileManager.default.createDirectory(atPath: harness.state.configuration.workspace, withIntermediateDirectories: true)
        try "id,amount\n1,10\n2,oops\n3,30\n".write(toFile: harness.state.configuration.workspace + "/in.csv", atomically: true, encoding: .utf8)
        let document = """
        apiVersion: sluice/v1
        name: metered
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {amount: int64}}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: out.in}
        """
        try await harness.withLiveServer(workers: 1) { client in
            let (token, _) = try await client.login("root", ServerHarness.adminPassword)
            let pipeline = try await client.call(.post, "/api/v1/pipelines", token: token, json: .object(["document": .string(document)]))
            let id = try #require(pipeline.body["id"]?.stringValue, "\(pipeline.text)")
            for _ in 0..<2 {
                let started = try await client.call(.post, "/api/v1/pipelines/\(id)/runs", token: token, json: .object([:]))
                let run = try await client.finishedRun(try #require(started.body["id"]?.stringValue), token: token)
                #expect(run["status"] == .string("succeeded"), "\(run)")
            }
            let metrics = Self.samples(try await client.call(.get, "/metrics").text)
            #expect(metrics[#"sluice_runs_total{pipeline="metered",status="succeeded"}"#] == 2, "\(metrics.keys.sorted())")
            #expect(metrics[#"sluice_runs_started_total{pipeline="metered"}"#] == 2)
            #expect(metrics[#"sluice_records_total{node_type="csv.read",direction="out"}"#] == 4)
            #expect(metrics[#"sluice_records_total{node_type="csv.read",direction="rejected"}"#] == 2)
            #expect(metrics[#"sluice_records_total{node_type="csv.write",direction="in"}"#] == 4)
            #expect(metrics[#"sluice_run_duration_seconds_count{status="succeeded"}"#] == 2)
            #expect(metrics["sluice_queue_depth"] == 0 && metrics["sluice_queue_oldest_age_seconds"] == 0)
            #expect(metrics["sluice_worker_slots_busy"] == 0)
            #expect(metrics.keys.allSatisfy { !$0.contains("run_id") }, "no unbounded labels")
            // A trigger fired by hand counts by kind and outcome.
            let trigger = try await client.call(.post, "/api/v1/triggers", token: token, json: .object([
                "name": .string("hook"), "kind": .string("webhook"), "pipelines": .array([.object(["pipeline_id": .string(id)])]),
            ]))
            let triggerID = try #require(trigger.body["id"]?.stringValue, "\(trigger.text)")
            let fired = try await client.call(.post, "/api/v1/triggers/\(triggerID)/fire", token: token, json: .object([:]))
            #expect(fired.status == .created, "\(fired.text)")
            for run in fired.body["runs"]?.arrayItems.compactMap(\.stringValue) ?? [] { _ = try await client.finishedRun(run, token: token) }
            let after = Self.samples(try await client.call(.get, "/metrics").text)
            #expect(after[#"sluice_trigger_firings_total{kind="webhook",outcome="fired"}"#] == 1, "\(after.keys.sorted())")
        }
        // A queued run no worker takes shows in the queue gauges.
        try await harness.withClient { client in
            let (token, _) = try await client.login("root", ServerHarness.adminPassword)
            let list = try await client.call(.get, "/api/v1/pipelines", token: token)
            let id = try #require(list.body.arrayItems.first?["id"]?.stringValue)
            _ = try await client.call(.post, "/api/v1/pipelines/\(id)/runs", token: token, json: .object([:]))
            try await Task.sleep(for: .milliseconds(1100))
            let metrics = Self.samples(try await client.call(.get, "/metrics").text)
            #expect(metrics["sluice_queue_depth"] == 1)
            #expect((metrics["sluice_queue_oldest_age_seconds"] ?? 0) >= 1)
        }
        await harness.close()
    }
}
