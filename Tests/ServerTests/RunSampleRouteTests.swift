import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `GET /api/v1/runs/{id}/samples[/{node}/{port}]`: a run kept by a worker carries each node output's first
/// rows, columns and row count; whoever may see the run sees them, nobody else; they go with the run.
@Suite(.serialized)
struct RunSampleRouteTests {
    static let document = """
        apiVersion: sluice/v1
        name: sampled
        settings: {sampleRows: 3}
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv, schema: {id: int64, amount: int64}}}
          - {id: big, type: filter, settings: {where: "amount > 100"}}
          - {id: save, type: csv.write, settings: {path: big.csv}}
        edges:
          - {from: src.out, to: big.in}
          - {from: big.out, to: save.in}
        """

    @Test func aFinishedRunShowsItsSamplesToThoseWhoMaySeeIt() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        let lines = (1...500).map { "\($0),\($0 % 7 == 0 ? "oops" : String($0))" }
        try ("id,amount\n" + lines.joined(separator: "\n") + "\n").write(toFile: workspace + "/orders.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document)]))
            let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")
            let started = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: root, json: .object([:]))
            let runID = try #require(started.body["id"]?.stringValue)
            let run = try await client.finishedRun(runID, token: root)
            #expect(run["status"] == .string("succeeded"), "\(run)")

            let all = try await client.call(.get, "/api/v1/runs/\(runID)/samples", token: root)
            #expect(all.status == .ok, "\(all.text)")
            let samples = all.body["samples"]?.arrayItems ?? []
            #expect(samples.map { "\($0["node"]?.stringValue ?? "").\($0["port"]?.stringValue ?? "")" } == ["src.out", "big.out"])
            let src = samples[0]
            #expect(src["rows_seen"] == .int(429), "500 lines less 71 rejected: \(src)")
            #expect(src["columns"]?.arrayItems.map { $0["name"]?.stringValue ?? "" } == ["id", "amount"])
            #expect(src["columns"]?.arrayItems.map { $0["type"]?.stringValue ?? "" } == ["int64", "int64"])
            #expect(src["rows"] == .array([.array([.int(1), .int(1)]), .array([.int(2), .int(2)]), .array([.int(3), .int(3)])]))
            #expect(samples[1]["rows_seen"] == .int(343))
            #expect(samples[1]["rows"]?.arrayItems.first == .array([.int(101), .int(101)]))

            let one = try await client.call(.get, "/api/v1/runs/\(runID)/samples/big/out", token: root)
            #expect(one.status == .ok && one.body["node"] == .string("big") && one.body["rows_seen"] == .int(343), "\(one.text)")
            let missing = try await client.call(.get, "/api/v1/runs/\(runID)/samples/save/out", token: root)
            #expect(missing.status == .notFound, "a sink has no output: \(missing.text)")

            // A member the pipeline is not shared with sees neither the run nor its samples.
            let hidden = try await client.call(.get, "/api/v1/runs/\(runID)/samples", token: mia)
            #expect(hidden.status == .notFound || hidden.status == .forbidden, "\(hidden.status)")
            let hiddenOne = try await client.call(.get, "/api/v1/runs/\(runID)/samples/src/out", token: mia)
            #expect(hiddenOne.status == .notFound || hiddenOne.status == .forbidden)

            // Samples are deleted with the run.
            let deleted = try await client.call(.delete, "/api/v1/pipelines/\(pipeline)", token: root)
            #expect(deleted.status == .noContent || deleted.status == .ok, "\(deleted.text)")
            #expect(try await harness.state.store.samples(runID: runID).isEmpty)
        }
        await harness.close()
    }
}
