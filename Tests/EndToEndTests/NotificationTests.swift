import Foundation
import SluiceTestSupport
import Testing

/// `notify:` in a pipeline: after `sluice run`, the matching entries are delivered (Slack and a webhook, to the
/// local test API), and one that cannot be delivered is reported, not lost.
@Suite struct NotificationTests {
    @Test func aFailedRunNotifiesSlackAndAWebhookAndReportsWhatCouldNotBeSent() async throws {
        let api = try APITestServer.server
        let store = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", "id\n1\n2\n")
        try dir.write("connections.yaml", """
        team: {type: slack, webhookUrl: "\(api.baseURL)/slack/hooks/\(store)"}
        ops: {type: http, baseUrl: "\(api.baseURL)", retries: 0}
        gone: {type: http, baseUrl: "http://127.0.0.1:9", retries: 0, timeout: 1s}
        """)
        try dir.write("nightly.yaml", """
        apiVersion: sluice/v1
        name: nightly
        notify:
          - {on: [failed], via: slack, connection: team}
          - {on: [failed, succeeded], via: webhook, connection: ops, path: "/hook?store=\(store)"}
          - {on: [succeeded], via: slack, connection: team}
          - {on: [failed], via: webhook, connection: gone}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: out, type: csv.write, settings: {path: "/proc/sluice-cannot-write/out.csv"}}
        edges:
          - {from: src.out, to: out.in}
        """)
        let run = try CommandLineTests.sluice(["run", "nightly.yaml"], in: dir.path)
        #expect(run.status == 1, "the run failed: \(run.stderr)")
        let slack = ((try await APITestServer.call("GET", "/hook/received?store=slack:\(store)") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
        #expect(slack.count == 1, "only the failed entry matched: \(slack)")
        let text = slack.first?["text"] as? String ?? ""
        #expect(text.hasPrefix("✗ nightly failed in") && text.contains("node 'out'") && text.contains("record(s) read"), "\(text)")
        let hook = ((try await APITestServer.call("GET", "/hook/received?store=\(store)") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
        #expect(hook.first?["status"] as? String == "failed" && hook.first?["pipeline"] as? String == "nightly" && hook.first?["records_read"] != nil)
        #expect(run.stderr.contains("webhook notification through 'gone' could not be sent"), "\(run.stderr)")
    }
}
