import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// http.request, http.write and incremental http.read against the real test API.
@Suite struct HTTPWriteTests {
    let dir: TemporaryDirectory
    let server: APITestServer.Server
    let harness: PipelineHarness
    let store = UUID().uuidString

    init() throws {
        dir = try TemporaryDirectory()
        server = try APITestServer.server
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        api: {type: http, baseUrl: "\(server.baseURL)", retries: 2}
        local: {type: sqlite, path: local.db}
        """)
    }

    func received() async throws -> (rows: [[String: Any]], keys: [String]) {
        let got = try await APITestServer.call("GET", "/hook/received?store=\(store)") as? [String: Any]
        return ((got?["rows"] as? [[String: Any]]) ?? [], (got?["keys"] as? [String]) ?? [])
    }

    @Test func perRowRequestsKeepOrderAddColumnsAndRejectRefusedRows() async throws {
        try dir.write("in.csv", "customer_id,name\n" + (1...40).map { "\($0),n\($0)" }.joined(separator: "\n") + "\n950,missing\n7,again\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: enrich
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - id: lookup
            type: http.request
            settings: {connection: api, path: "/customers/{{customer_id}}", concurrency: 8, responseHeaders: [X-Request-Id],
                       fields: {score: data.score, tier: data.tier}, schema: {score: int64}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: src.out, to: lookup.in}
          - {from: lookup.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let rows = try dir.read("out.jsonl").split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.map { ($0["customer_id"] as? NSNumber)?.intValue ?? -1 } == Array(1...40) + [7], "input order is kept")
        #expect((rows[2]["score"] as? NSNumber)?.intValue == 30 && rows[2]["tier"] as? String == "gold" && rows[2]["header_x_request_id"] as? String == "r3")
        #expect((rows[0]["http_status"] as? NSNumber)?.intValue == 200)
        #expect(run.rejects.count == 1 && run.rejects[0].record.message.contains("404"), "\(run.rejects.map(\.record.message))")
    }

    @Test func aTemplateNamingAMissingColumnIsAPlanError() async {
        try? dir.write("in.csv", "id\n1\n")
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: typo
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: lookup, type: http.request, settings: {connection: api, path: "/customers/{{customer_id}}"}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: src.out, to: lookup.in}
          - {from: lookup.out, to: out.in}
        """)
        #expect(problems.first?.code == "unknown_column" && problems.first?.node == "lookup" && problems.first?.field == "path", "\(problems)")
    }

    func write(_ settings: String, csv: String) async throws -> HarnessRun {
        try dir.write("in.csv", csv)
        return try await harness.run("""
        apiVersion: sluice/v1
        name: push
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: hook, type: http.write, settings: {connection: api, path: "/hook?store=\(store)", \(settings)}}
        edges:
          - {from: src.out, to: hook.in}
        """)
    }

    @Test func batchesCarryIdempotencyKeysAndARefusedBatchIsRejected() async throws {
        let csv = "id,bad\n" + (1...7).map { "\($0),\($0 == 5)" }.joined(separator: "\n") + "\n"
        let run = try await write("format: json, batchSize: 3", csv: csv)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let got = try await received()
        #expect(got.rows.compactMap { ($0["id"] as? NSNumber)?.intValue } == [1, 2, 3, 7], "the batch holding the bad row (4, 5, 6) was refused")
        #expect(run.rejects.map { $0.record.row ?? -1 } == [3, 4, 5])
        #expect(run.rejects.first?.record.message.contains("400") == true)
        #expect(got.keys.count == 2 && got.keys.allSatisfy { $0.hasPrefix(run.summary.runID + "-") } && Set(got.keys).count == 2)
    }

    @Test func rowModeRejectsOnlyTheRefusedRowAndJSONLinesBatchesArrive() async throws {
        let csv = "id,bad\n1,false\n2,true\n3,false\n"
        let rowRun = try await write("format: row, concurrency: 2", csv: csv)
        #expect(rowRun.summary.status == .succeeded, "\(rowRun.summary.error ?? "")")
        #expect(rowRun.rejects.map { $0.record.row ?? -1 } == [1])
        let lines = try await write("format: jsonl, batchSize: 10", csv: "id,bad\n10,false\n11,false\n")
        #expect(lines.summary.status == .succeeded, "\(lines.summary.error ?? "")")
        let ids = try await received().rows.compactMap { ($0["id"] as? NSNumber)?.intValue }
        #expect(Set(ids) == [1, 3, 10, 11])
    }

    @Test func incrementalReadsLoseAndRepeatNothingAcrossRuns() async throws {
        let pipeline = """
        apiVersion: sluice/v1
        name: feed
        nodes:
          - id: events
            type: http.read
            settings: {connection: api, path: /events, query: {store: '\(store)'}, records: events, mode: incremental, cursor: seq, cursorParam: since,
                       pagination: {style: cursor, cursorPath: next, cursorParam: cursor}}
          - {id: load, type: sqlite.write, settings: {connection: local, table: events}}
        edges:
          - {from: events.out, to: load.in}
        """
        func seqs() throws -> [Int] {
            try runProcess("/usr/bin/sqlite3", [dir.file("local.db"), "SELECT seq FROM events ORDER BY seq"]).stdout.split(separator: "\n").compactMap { Int($0) }
        }
        _ = try await APITestServer.call("POST", "/events/add?store=\(store)&count=7")
        let first = try await harness.run(pipeline)
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        #expect(try seqs() == Array(1...7))
        _ = try await APITestServer.call("POST", "/events/add?store=\(store)&count=5")
        let second = try await harness.run(pipeline)
        #expect(second.summary.status == .succeeded, "\(second.summary.error ?? "")")
        #expect(try seqs() == Array(1...12), "the second run read exactly the five new events")
        let third = try await harness.run(pipeline)
        #expect(third.summary.status == .succeeded)
        #expect(try seqs() == Array(1...12), "nothing new: nothing read")
    }
}
