import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Table tests for CSV edge cases: every input record ends up in the output or in the reject store.
@Suite struct CSVReadTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let bytes: [UInt8]
        var settings = ""
        let rows: [[String]]
        var rejectedLines: [Int] = []
        var description: String { name }

        init(_ name: String, _ text: String, settings: String = "", rows: [[String]], rejected: [Int] = []) {
            self.name = name
            bytes = Array(text.utf8)
            self.settings = settings
            self.rows = rows
            rejectedLines = rejected
        }

        init(_ name: String, bytes: [UInt8], rows: [[String]]) {
            self.name = name
            self.bytes = bytes
            self.rows = rows
        }
    }

    static let cases: [Case] = [
        Case("plain LF", "a,b\n1,x\n2,y\n", rows: [["1", "x"], ["2", "y"]]),
        Case("CRLF line ends", "a,b\r\n1,x\r\n2,y\r\n", rows: [["1", "x"], ["2", "y"]]),
        Case("no final newline", "a,b\n1,x\n2,y", rows: [["1", "x"], ["2", "y"]]),
        Case("UTF-8 BOM", bytes: [0xEF, 0xBB, 0xBF] + Array("a,b\n1,ü\n".utf8), rows: [["1", "ü"]]),
        Case("quoted delimiter", "a,b\n1,\"x,y\"\n", rows: [["1", "x,y"]]),
        Case("doubled quotes", "a,b\n1,\"say \"\"hi\"\"\"\n", rows: [["1", "say \"hi\""]]),
        Case("embedded newline", "a,b\n1,\"two\nlines\"\n2,z\n", rows: [["1", "two\nlines"], ["2", "z"]]),
        Case("embedded CRLF", "a,b\r\n1,\"x\r\ny\"\r\n", rows: [["1", "x\r\ny"]]),
        Case("empty vs quoted empty", "a,b\n1,\n2,\"\"\n", rows: [["1", "NULL"], ["2", ""]]),
        Case("null markers", "a,b\n1,NA\n2,\\N\n3,\"NA\"\n", settings: "nullValues: ['', 'NA', '\\N']", rows: [["1", "NULL"], ["2", "NULL"], ["3", "NA"]]),
        Case("blank lines are not records", "a,b\n1,x\n\n2,y\n", rows: [["1", "x"], ["2", "y"]]),
        Case("ragged rows are rejected", "a,b\n1,x\n2\n3,y,extra\n4,z\n", rows: [["1", "x"], ["4", "z"]], rejected: [3, 4]),
        Case("bad values are rejected", "a,b\n1,x\nnope,y\n3,z\n", settings: "schema: {a: int64}", rows: [["1", "x"], ["3", "z"]], rejected: [3]),
        Case("stray quote is rejected", "a,b\n1,x\"y\n2,z\n", rows: [["2", "z"]], rejected: [2]),
        Case("text after closing quote is rejected", "a,b\n1,\"x\"y\n2,z\n", rows: [["2", "z"]], rejected: [2]),
        Case("unterminated quote is rejected", "a,b\n1,x\n2,\"open\n3,y\n", rows: [["1", "x"]], rejected: [3]),
        Case("line numbers count quoted newlines", "a,b\n1,\"l1\nl2\nl3\"\n2\n3,ok\n", rows: [["1", "l1\nl2\nl3"], ["3", "ok"]], rejected: [5]),
        Case("tab delimiter", "a\tb\n1\tx y\n", settings: "delimiter: tab", rows: [["1", "x y"]]),
        Case("semicolon and custom quote", "a;b\n1;'x;y'\n", settings: "delimiter: ';', quote: \"'\"", rows: [["1", "x;y"]]),
        Case("no header", "1,x\n2,y\n", settings: "header: false", rows: [["1", "x"], ["2", "y"]]),
        Case("lone CR line ends", "a,b\r1,x\r2,y\r", rows: [["1", "x"], ["2", "y"]]),
    ]

    static func read(_ bytes: [UInt8], settings: String, extra: String = "") async throws -> (HarnessRun, [[Value]], TemporaryDirectory) {
        let dir = try TemporaryDirectory()
        try dir.write("in.csv", Data(bytes))
        let yaml = """
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv\(settings.isEmpty ? "" : ", " + settings)}}
          - {id: out, type: limit, settings: {count: 1000000}}
        \(extra)
        edges:
          - {from: src.out, to: out.in}
        """
        let run = try await PipelineHarness(directory: dir).run(yaml, preview: "out", previewLimit: 1_000_000)
        return (run, rows(run.result.preview), dir)
    }

    @Test(arguments: cases)
    func edgeCase(_ c: Case) async throws {
        let (run, values, dir) = try await Self.read(c.bytes, settings: c.settings)
        defer { dir.remove() }
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let rendered = values.map { $0.map { v -> String in if case let .string(s) = v { s } else { v.isNull ? "NULL" : v.description } } }
        #expect(rendered == c.rows)
        #expect(run.rejects.compactMap(\.record.line) == c.rejectedLines, "\(run.rejects.map(\.record.message))")
        #expect(run.rejects.allSatisfy { $0.record.source?.hasSuffix("in.csv") == true })
    }

    @Test func veryLongFieldsSpanReadBuffers() async throws {
        let long = String(repeating: "x,\"y\"\n", count: 2_000_000) // 12 MB inside one quoted field
        let text = "id,body,tail\n1,\"\(long.replacingOccurrences(of: "\"", with: "\"\""))\",end\n2,short,end\n"
        let (run, values, dir) = try await Self.read(Array(text.utf8), settings: "")
        defer { dir.remove() }
        #expect(run.summary.status == .succeeded)
        #expect(values.count == 2)
        #expect(values.first?[1] == .string(long))
        #expect(values.last == [.int(2), .string("short"), .string("end")])
    }

    @Test func inferenceFollowsTheDocumentedRules() async throws {
        let text = "i,f,b,d,t,zip,s,empty\n1,1.5,true,2024-01-01,2024-01-01T10:00:00Z,007,a,\n-2,3,FALSE,2024-02-29,2024-01-01 10:00:00+01:00,010,b,\n"
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", text)
        let plan = try await PipelineHarness(directory: dir).plan("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
        edges: []
        """)
        #expect(plan.node("src")?.outputSchemas["out"]?.fields.map(\.type) == [.int64, .float64, .bool, .date, .timestamp, .string, .string, .string])
    }

    @Test func aColumnThatFellBackToStringSaysWhy() async throws {
        // 'amount' is an integer on every line but one (a quoted line break before it moves the line count on);
        // 'note' is mostly text and says nothing.
        var text = "id,amount,note\n1,10,\"two\nlines\"\n"
        for i in 2...30 { text += i == 12 ? "\(i),N/A,x\n" : "\(i),\(i * 10),\(i == 3 ? "7" : "word")\n" }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", text)
        let yaml = "apiVersion: sluice/v1\nname: t\nnodes:\n  - {id: src, type: csv.read, settings: {path: in.csv%@}}\nedges: []\n"
        let plan = try await PipelineHarness(directory: dir).plan(yaml.replacingOccurrences(of: "%@", with: ""))
        #expect(plan.node("src")?.outputSchemas["out"]?.fields.map(\.type) == [.int64, .string, .string])
        let notes = plan.notes["src"] ?? []
        #expect(notes.count == 1, "\(notes)")
        #expect(notes.first?.hasPrefix("column 'amount' became string because of 'N/A' on line 14 (the other 29 sampled values are int64)") == true, "\(notes)")
        // Declared, the note goes (and 'N/A' becomes a reject at run time).
        let declared = try await PipelineHarness(directory: dir).plan(yaml.replacingOccurrences(of: "%@", with: ", schema: {amount: int64}"))
        #expect(declared.notes["src"] == nil)
    }

    @Test func everyRecordIsCountedAcrossManyChunks() async throws {
        // Large enough for several parallel chunks; every 1000th row is bad.
        var text = "n,label\n"
        for i in 0..<300_000 { text += i % 1000 == 999 ? "oops,\"q,\(i)\"\n" : "\(i),\"q,\(i)\"\n" }
        let (run, values, dir) = try await Self.read(Array(text.utf8), settings: "schema: {n: int64}")
        defer { dir.remove() }
        #expect(values.count + run.rejects.count == 300_000)
        #expect(run.rejects.count == 300)
        #expect(run.rejects.first?.record.line == 1001)
        #expect(run.rejects.last?.record.line == 300_001)
        let expected: [Value] = (0..<300_000).filter { $0 % 1000 != 999 }.map { Value.int(Int64($0)) }
        let first: [Value] = values.map { $0[0] }
        #expect(first == expected)
    }

    @Test func globsReadEveryFileAndCheckHeaders() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("part-1.csv", "a,b\n1,x\n")
        try dir.write("part-2.csv", "a,b\n2,y\n")
        let yaml = """
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: "part-*.csv"}}
          - {id: out, type: csv.write, settings: {path: all.csv}}
        edges:
          - {from: src.out, to: out.in}
        """
        let harness = PipelineHarness(directory: dir)
        #expect(try await harness.run(yaml).summary.status == .succeeded)
        #expect(try dir.read("all.csv") == "a,b\n1,x\n2,y\n")
        try dir.write("part-3.csv", "a,c\n3,z\n")
        let mismatch = try await harness.run(yaml)
        #expect(mismatch.summary.status == .failed)
        #expect(mismatch.summary.error?.contains("has columns a, c") == true)
        #expect(await harness.problems(yaml.replacingOccurrences(of: "part-*.csv", with: "nothing-*.csv")).first?.code == "file_not_found")
    }
}
