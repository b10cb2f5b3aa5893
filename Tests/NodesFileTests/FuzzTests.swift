import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing
@testable import Expressions

/// A small seeded generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random input must never crash a reader or lose a record; chunk boundaries must not change results.
@Suite struct FuzzTests {
    static func run(_ bytes: [UInt8], settings: String, in dir: TemporaryDirectory) async throws -> HarnessRun {
        try dir.write("in.csv", Data(bytes))
        return try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: fuzz
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, \(settings)}}
          - {id: last, type: limit, settings: {count: 100000000}}
        edges:
          - {from: src.out, to: last.in}
        """, preview: "last", previewLimit: 100_000_000)
    }

    @Test(arguments: 0..<12)
    func randomCSVNeverCrashesAndChunkingDoesNotMatter(seed: Int) async throws {
        var rng = SplitMix64(state: UInt64(seed))
        let alphabet: [UInt8] = Array("ab1, \"\n\r\"é,,\n9.5".utf8)
        var bytes: [UInt8] = Array("x,y,z\n".utf8)
        for _ in 0..<Int.random(in: 500...4000, using: &rng) { bytes.append(alphabet.randomElement(using: &rng)!) }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let whole = try await Self.run(bytes, settings: "header: true, threads: 1", in: dir)
        let chunked = try await Self.run(bytes, settings: "header: true, threads: 3, chunkBytes: 16, batchRows: 3", in: dir)
        #expect(whole.summary.status == .succeeded)
        #expect(chunked.summary.status == .succeeded)
        #expect(rows(whole.result.preview) == rows(chunked.result.preview), "seed \(seed)")
        #expect(whole.rejects.map(\.record.line) == chunked.rejects.map(\.record.line), "seed \(seed)")
    }

    @Test(arguments: 0..<8)
    func quoteFreeCSVAccountsForEveryLine(seed: Int) async throws {
        var rng = SplitMix64(state: UInt64(1000 + seed))
        var lines: [String] = ["a,b,c"]
        for _ in 0..<Int.random(in: 100...3000, using: &rng) {
            let fields = Int.random(in: 1...4, using: &rng)
            lines.append((0..<fields).map { _ in ["1", "x", "", "2.5", "zz", "-3"].randomElement(using: &rng)! }.joined(separator: ","))
        }
        let text = lines.joined(separator: Bool.random(using: &rng) ? "\n" : "\r\n")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try await Self.run(Array(text.utf8), settings: "schema: {a: string, b: string, c: string}, chunkBytes: 64", in: dir)
        let records = lines.dropFirst().filter { !$0.isEmpty }.count
        #expect(rows(run.result.preview).count + run.rejects.count == records)
        #expect(run.rejects.allSatisfy { $0.record.code == "ragged_row" })
    }

    @Test(arguments: 0..<6)
    func randomBytesAreSafe(seed: Int) async throws {
        var rng = SplitMix64(state: UInt64(77 + seed))
        let bytes = (0..<Int.random(in: 1...20_000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try await Self.run(bytes, settings: "header: false, chunkBytes: 256", in: dir)
        #expect(run.summary.status == .succeeded)
        try dir.write("in.jsonl", Data(bytes))
        let jsonl = try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: fuzz
        nodes:
          - {id: src, type: jsonl.read, settings: {path: in.jsonl}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: src.out, to: out.in}
        """)
        #expect(jsonl.summary.status == .succeeded)
    }

    @Test func randomExpressionsNeverCrashTheParserOrBinder() {
        var rng = SplitMix64(state: 42)
        let pieces = ["a", "b", "1", "2.5", "'x'", "NULL", "(", ")", "+", "-", "*", "/", "%", "=", "<>", "AND", "OR", "NOT", "IS", "IN", "BETWEEN",
                      "LIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "int64", ",", "lower", "coalesce", "::", "${p}", "\"", "'", "||"]
        let schema = Schema([SchemaField("a", .int64), SchemaField("b", .string)])
        var builderA = ColumnBuilder(type: .int64), builderB = ColumnBuilder(type: .string)
        for i in 0..<5 { builderA.appendInt64(Int64(i - 2)); builderB.appendString("s\(i)") }
        let batch = RecordBatch(schema: schema, columns: [builderA.finish(), builderB.finish()])
        for _ in 0..<5000 {
            let text = (0..<Int.random(in: 1...9, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined(separator: " ")
            guard let expression = try? Expression(text) else { continue }
            guard let bound = try? expression.bind(to: schema, environment: .init(parameters: ["p": .int(3)])) else { continue }
            let result = bound.evaluate(batch)
            #expect(result.column.count == 5)
        }
    }
}
