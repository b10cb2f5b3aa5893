import Columnar
import Foundation
import Testing
@testable import Expressions

/// Golden-file tests for the expression language: every line of Golden/expressions.txt is bound and
/// evaluated over one fixed batch; the rendered results must equal Golden/expressions.golden.
/// Set SLUICE_UPDATE_GOLDEN=1 to rewrite the golden file after reviewing a change.
@Suite struct GoldenTests {
    static func batch() -> RecordBatch {
        func ts(_ s: String) -> Value { .timestamp(CivilTime.parseTimestamp(s)!) }
        func date(_ s: String) -> Value { .date(CivilTime.parseDate(s)!) }
        let columns: [(String, DataType, [Value])] = [
            ("i", .int64, [.int(1), .int(-7), .null, .int(10)]),
            ("f", .float64, [.float(1.5), .float(-0.25), .float(2), .null]),
            ("s", .string, [.string("paid"), .string("Pending"), .null, .string("a,b")]),
            ("t", .timestamp, [ts("2024-03-10T01:30:00Z"), ts("2023-12-31T23:59:59.5Z"), .null, ts("2024-02-29T12:00:00Z")]),
            ("d", .date, [date("2024-03-10"), date("1999-12-31"), date("2000-02-29"), .null]),
            ("b", .bool, [.bool(true), .bool(false), .null, .bool(true)]),
            ("j", .json, [.json(#"{"a":{"b":[1,2,3]},"n":null}"#), .json(#"{"a":1}"#), .null, .json(#"[1,"x"]"#)]),
            ("odd name", .int64, [.int(1), .int(2), .int(3), .int(4)]),
            ("m", .decimal(precision: 12, scale: 2), [.decimal(10, scale: 2), .decimal(1999, scale: 2), .null, .decimal(-335, scale: 2)]),
        ]
        let schema = Schema(columns.map { SchemaField($0.0, $0.1) })
        let built = columns.map { column -> Column in
            var builder = ColumnBuilder(type: column.1)
            for v in column.2 { builder.append(v) }
            return builder.finish()
        }
        return RecordBatch(schema: schema, columns: built)
    }

    static func render(_ value: Value) -> String {
        switch value {
        case .null: "NULL"
        case let .string(s): "'\(s)'"
        case .json: "json \(value.description)"
        case .date: "date \(value.description)"
        case .timestamp: "ts \(value.description)"
        case .decimal: "dec \(value.description)"
        case let .float(d): "\(d)"
        default: value.description
        }
    }

    static func evaluate(_ line: String, _ batch: RecordBatch) -> String {
        let environment = ExpressionEnvironment(parameters: ["min": .int(5), "name": .string("paid")],
                                                now: CivilTime.parseTimestamp("2024-06-01T12:00:00Z")!)
        do {
            let bound = try Expression(line).bind(to: batch.schema, environment: environment)
            let result = bound.evaluate(batch)
            let cells = (0..<batch.count).map { row in
                result.rowErrors[row].map { "!\($0.code)" } ?? render(result.column.value(at: row))
            }
            return "  : \(bound.type) [\(cells.joined(separator: ", "))]"
        } catch {
            return "  ! \(error.code): " + error.description.replacingOccurrences(of: "\n", with: "\n    ")
        }
    }

    @Test func expressionsMatchGoldenFile() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        let cases = try String(contentsOf: folder.appendingPathComponent("expressions.txt"), encoding: .utf8)
        let batch = Self.batch()
        var output = ""
        for line in cases.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("#") || line.isEmpty { output += line + "\n"; continue }
            output += line + "\n" + Self.evaluate(line, batch) + "\n"
        }
        let goldenURL = folder.appendingPathComponent("expressions.golden")
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_GOLDEN"] == "1" {
            try output.write(to: goldenURL, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        let actualLines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let goldenLines = golden.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, (a, g)) in zip(actualLines, goldenLines).enumerated() where a != g {
            Issue.record("line \(i + 1) differs:\n  expected: \(g)\n  actual:   \(a)")
        }
        #expect(actualLines.count == goldenLines.count)
    }
}
