import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Rows are traced to their source: a CSV or JSONL row to its file and line (also when the file is decoded in
/// parallel chunks), a `rows` row to its number; filters, computed columns, selections and edge filters keep the
/// trace, so a later node's reject and every sampled row say where the row came from.
@Suite struct RowOriginTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(registry: testRegistry, directory: dir)
        // id n is on line n + 1; a quoted note with a line break every 10th row moves the later lines down.
        var text = "id,note\n"
        var line = 2
        var lines: [Int: Int] = [:]
        for id in 1...3000 {
            lines[id] = line
            if id % 10 == 0 { text += "\(id),\"two\nlines\"\n"; line += 2 } else { text += "\(id),plain\n"; line += 1 }
        }
        try dir.write("ids.csv", text)
        try JSONEncoder().encode(lines.map { [$0.key, $0.value] }).write(to: URL(fileURLWithPath: dir.file("lines.json")))
    }

    func expectedLine(_ id: Int) throws -> Int {
        let pairs = try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: URL(fileURLWithPath: dir.file("lines.json"))))
        return pairs.first { $0[0] == id }![1]
    }

    @Test func aLaterNodesRejectsAndSamplesNameTheSourceLine() async throws {
        let yaml = """
        apiVersion: sluice/v1
        name: traced
        settings: {sampleRows: 50}
        nodes:
          - {id: read, type: csv.read, settings: {path: ids.csv, chunkBytes: 512, batchRows: 64}}
          - {id: sevens, type: filter, settings: {where: "id % 7 = 0"}}
          - {id: ratio, type: compute, settings: {columns: {r: "100 / (id % 5)"}}}
          - {id: slim, type: select, settings: {columns: [id, r]}}
          - {id: sink, type: test.sink}
        edges:
          - {from: read.out, to: sevens.in}
          - {from: sevens.out, to: ratio.in}
          - {from: ratio.out, to: slim.in, where: "id > 14"}
          - {from: slim.out, to: sink.in}
        """
        let run = try await harness.run(yaml)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        // Division by zero where id is a multiple of 35: the reject names the source line.
        let rejects = run.rejects.filter { $0.node == "ratio" }
        #expect(rejects.count == 3000 / 35)
        for packet in rejects {
            guard case let .row(values) = packet.record.payload, case let .int(id) = values.first(where: { $0.name == "id" })?.value else {
                Issue.record("a row payload with an id"); continue
            }
            #expect(packet.record.origin == "read: ids.csv line \(try expectedLine(Int(id)))")
        }
        #expect(run.rejects.first { $0.node == "ratio" }.map { $0.jsonLine.contains(#""origin":"read: ids.csv line "#) } == true)
        // Samples after a filter, a computed column, an edge's where and a selection still know each row's line.
        for node in ["read", "sevens", "ratio", "slim"] {
            let sample = try #require(run.result.samples.first { $0.node == node })
            #expect(sample.rows.count == 50)
            for (row, origin) in zip(sample.rows, sample.origins) {
                guard case let .int(id) = row[0] else { Issue.record("id first"); continue }
                #expect(origin == "read: ids.csv line \(try expectedLine(Int(id)))", "\(node)")
            }
        }
    }

    @Test func jsonLinesAndInlineRowsAreTracedRowsMadeFromManyAreNot() async throws {
        try dir.write("events.jsonl", "{\"id\": 1}\n\n{\"id\": 2}\n{\"id\": \"bad\"}\n{\"id\": 3}\n")
        let yaml = """
        apiVersion: sluice/v1
        name: traced
        nodes:
          - {id: events, type: jsonl.read, settings: {path: events.jsonl, schema: {id: int64}}}
          - {id: inline, type: rows, settings: {rows: [{id: 10}, {id: 11}]}}
          - {id: both, type: union}
          - {id: totals, type: aggregate, settings: {aggregates: {n: "count(*)"}}}
          - {id: sink, type: test.sink}
        edges:
          - {from: events.out, to: both.in}
          - {from: inline.out, to: both.in}
          - {from: both.out, to: totals.in}
          - {from: totals.out, to: sink.in}
        """
        let run = try await harness.run(yaml)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let events = try #require(run.result.samples.first { $0.node == "events" })
        // count(*) reads no column, so the id that does not fit int64 is never decoded: four rows, the blank line skipped.
        #expect(events.origins == ["events: events.jsonl line 1", "events: events.jsonl line 3", "events: events.jsonl line 4", "events: events.jsonl line 5"])
        let inline = try #require(run.result.samples.first { $0.node == "inline" })
        #expect(inline.origins == ["inline row 1", "inline row 2"])
        let totals = try #require(run.result.samples.first { $0.node == "totals" })
        #expect(totals.origins == [nil], "a group has no single source row")
        #expect(!totals.json.contains("origins"))
    }
}
