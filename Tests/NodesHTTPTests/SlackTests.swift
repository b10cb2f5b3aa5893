import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// slack.post against a local receiver that checks payloads the way Slack documents them (Slack itself cannot
/// be reached from here), including failure branches that post the run's error.
@Suite struct SlackTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness
    let store = UUID().uuidString.replacingOccurrences(of: "-", with: "")

    init() throws {
        dir = try TemporaryDirectory()
        let server = try APITestServer.server
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        team: {type: slack, webhookUrl: "\(server.baseURL)/slack/hooks/\(store)"}
        busy: {type: slack, webhookUrl: "\(server.baseURL)/slack/hooks/\(store)?limit=1"}
        """)
    }

    func received() async throws -> [[String: Any]] {
        ((try await APITestServer.call("GET", "/hook/received?store=slack:\(store)") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
    }

    @Test func aRunMessageSummarisesTheRowsWithATable() async throws {
        try dir.write("in.csv", "region,total\nnorth,120\nsouth,80\nwest,5\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: totals
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: ping, type: slack.post, settings: {connection: busy, text: "*Daily totals*: {{run.rows}} regions", table: 2}}
        edges:
          - {from: src.out, to: ping.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let messages = try await received()
        #expect(messages.count == 1, "the 429 was retried once, not posted twice")
        #expect(messages.first?["text"] as? String == "*Daily totals*: 3 regions")
        let blocks = messages.first?["blocks"] as? [[String: Any]] ?? []
        let table = (blocks.last?["text"] as? [String: Any])?["text"] as? String ?? ""
        #expect(table.contains("north") && table.contains("south") && !table.contains("west"), "\(table)")
        #expect(run.events.messages.contains { $0.contains("answered 429") })
    }

    @Test func aFailureBranchPostsTheRunsErrorAndTheRunStillFails() async throws {
        try dir.write("in.csv", "id,amount\n1,10\n2,x\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: nightly
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {amount: int64}}}
          - {id: load, type: csv.write, settings: {path: "/proc/sluice-cannot-write/out.csv"}}
          - {id: alert, type: slack.post, settings: {connection: team, text: "Load failed in {{run.pipeline}}: {{run.error}}"}}
        edges:
          - {from: src.out, to: load.in}
          - {from: load.failed, to: alert.start, kind: signal}
        """)
        #expect(run.summary.status == .failed)
        #expect(run.summary.outcome("alert") == .succeeded, "\(run.summary.nodes.map { "\($0.node): \($0.outcome)" })")
        let text = try await received().first?["text"] as? String ?? ""
        #expect(text.hasPrefix("Load failed in nightly: node 'load'"), "\(text)")
    }

    @Test func rowMessagesRejectWhatSlackRefuses() async throws {
        try dir.write("in.csv", "who,what\nann,deploy\nbob,refuse me\ncid,rollback\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: feed
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: ping, type: slack.post, settings: {connection: team, mode: row, text: "{{who}}: {{what}}"}}
        edges:
          - {from: src.out, to: ping.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try await received().compactMap { $0["text"] as? String } == ["ann: deploy", "cid: rollback"])
        #expect(run.rejects.count == 1 && run.rejects[0].record.message.contains("channel_not_found"), "\(run.rejects.map(\.record.message))")
    }

    @Test func templatesNameOnlyWhatTheModeOffers() async {
        try? dir.write("in.csv", "who\nann\n")
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: typo
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: ping, type: slack.post, settings: {connection: team, text: "{{who}} did it"}}
        edges:
          - {from: src.out, to: ping.in}
        """)
        #expect(problems.first?.field == "text" && problems.first?.message.contains("mode: run") == true, "\(problems)")
    }
}
