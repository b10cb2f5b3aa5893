import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

@Suite struct JSONLReadTests {
    func read(_ text: String, settings: String = "") async throws -> (HarnessRun, [[Value]], Schema?) {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.jsonl", text)
        let run = try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: jsonl.read, settings: {path: in.jsonl\(settings)}}
          - {id: last, type: limit, settings: {count: 1000000}}
        edges:
          - {from: src.out, to: last.in}
        """, preview: "last", previewLimit: 1_000_000)
        return (run, rows(run.result.preview), run.result.preview.first?.schema)
    }

    @Test func escapesAndUnicodeDecode() async throws {
        let (run, out, _) = try await read(#"{"k\"ey": "a\"b\\c\nd\u00e9\ud83d\ude00", "n": -1.5e2}"# + "\n")
        #expect(run.summary.status == .succeeded)
        #expect(out == [[.string("a\"b\\c\ndé😀"), .float(-150)]])
        #expect(run.result.preview.first?.schema.names == ["k\"ey", "n"])
    }

    @Test func inferenceWidensAndKeepsKeyOrder() async throws {
        let (_, out, schema) = try await read("""
        {"b": 1, "a": "x"}
        {"a": "y", "b": 2.5, "c": [1, {"z": true}]}
        {"c": null, "d": false}

        """)
        #expect(schema?.fields == [SchemaField("b", .float64), SchemaField("a", .string), SchemaField("c", .json), SchemaField("d", .bool)])
        #expect(out[1] == [.float(2.5), .string("y"), .json(#"[1,{"z":true}]"#), .null])
    }

    @Test func badLinesAreRejectedWithTheirLineAndNothingElseIsLost() async throws {
        let (run, out, _) = try await read("""
        {"id": 1}
        {"id": 2, "id": 3}
        {"id": 4.0}
        {"id": "five"}
        {"id": 6} trailing
        ["not", "an", "object"]
        {"id": 7

        {"id": 8}
        """, settings: ", schema: {id: int64}")
        #expect(out == [[.int(1)], [.int(4)], [.int(8)]])
        #expect(run.rejects.compactMap(\.record.line) == [2, 4, 5, 6, 7])
        #expect(run.rejects.first?.record.message.contains("appears twice") == true)
        #expect(run.rejects.map(\.record.code).contains("invalid_value"))
    }

    @Test func keysOutsideTheSampleAreReportedNotSilentlyDropped() async throws {
        let (run, _, _) = try await read("{\"a\": 1}\n{\"a\": 2, \"late\": 3}\n", settings: ", inferRows: 1")
        #expect(run.events.messages.contains { $0.contains("late (1×)") && $0.contains("declare them in 'schema'") })
    }

    @Test func largeFilesStreamInBatches() async throws {
        var text = ""
        for i in 0..<50_000 { text += "{\"i\": \(i), \"s\": \"row \(i)\"}\n" }
        let (run, out, _) = try await read(text, settings: ", batchRows: 1000")
        #expect(out.count == 50_000)
        #expect(out.last == [.int(49_999), .string("row 49999")])
        #expect(run.summary.counts("src")?.recordsOut == 50_000)
    }
}
