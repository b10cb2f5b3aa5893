import Columnar
import Foundation
public import NodeKit

/// Reads JSON Lines files (one JSON object per line) into typed batches.
///
/// The schema is declared or inferred from a sample: keys in order of first appearance; numbers are
/// int64 or float64, nested objects and arrays are json. A line that is not a JSON object, or whose
/// value does not fit its column, is rejected with its line number.
public struct JSONLReadNode: NodeType {
    static let path = Field<String>("path", summary: "A file or glob such as logs/*.jsonl, relative to the pipeline file.", example: "data/events.jsonl")
    static let schema = Field<SchemaDeclaration?>("schema", summary: "Column types (all or some keys); the rest are inferred.")
    static let inferRows = Field<Int>("inferRows", summary: "Lines sampled to infer the schema.", default: 1_000)
    static let batchRows = Field<Int>("batchRows", summary: "Rows per batch.", default: 8_192)

    public static let spec = NodeSpec(
        id: "jsonl.read", version: 1, category: .source, title: "JSON Lines file",
        summary: "Reads newline-delimited JSON objects into typed rows.",
        inputs: [], outputs: [.data("out")], fields: [path.spec, schema.spec, inferRows.spec, batchRows.spec],
        capabilities: [.projection], icon: "file-code")

    let settings: Settings
    let pattern: String
    let declared: Schema?
    let inferRows: Int
    let batchRows: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        pattern = settings.resolvePath(try settings[Self.path])
        declared = try settings[Self.schema]?.schema
        inferRows = try settings[Self.inferRows]
        batchRows = max(1, try settings[Self.batchRows])
    }

    public func plan(_ request: PlanRequest) throws(ConfigError) -> NodePlan {
        let files = FileMatcher.expand(pattern)
        guard let first = files.first else { throw settings.error(Self.path, "no file matches '\(pattern)'", code: "file_not_found") }
        var order: [String] = []
        var seenKeys = Set<String>()
        var types: [String: DataType] = [:]
        do {
            var seen = 0
            try JSONLines.forEachLine(path: first) { line, _ in
                guard seen < inferRows else { return false }
                guard let object = JSONLines.object(line) else { return true }
                seen += 1
                for (key, value) in object.pairs {
                    if seenKeys.insert(key).inserted { order.append(key) }
                    types[key] = JSONLines.widen(types[key], JSONLines.type(of: value))
                }
                return true
            }
        } catch {
            throw settings.error(Self.path, "\(error)", code: "file_unreadable")
        }
        var fields = order.map { SchemaField($0, declared?.field(named: $0)?.type ?? types[$0] ?? .string) }
        for field in declared?.fields ?? [] where !order.contains(field.name) { fields.append(field) }
        let full = Schema(fields)
        let output = request.projection.map { p in Schema(full.fields.filter { p.contains($0.name) }) } ?? full
        return NodePlan(outputs: ["out": output], work: Work(files: files, schema: output, batchRows: batchRows))
    }

    struct Work: NodeWork {
        let files: [String]
        let schema: Schema
        let batchRows: Int

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            for file in files {
                var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batchRows) }
                var rows = 0
                var rejects: [RejectedRecord] = []
                var pending: [RecordBatch] = []
                let positions = Dictionary(schema.names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                do {
                    try JSONLines.forEachLine(path: file) { line, number in
                        if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { return true }
                        let text = String(decoding: line, as: UTF8.self)
                        guard let object = JSONLines.object(line) else {
                            rejects.append(RejectedRecord(code: "malformed_record", message: "line \(number): not a JSON object", source: file, line: number, payload: .text(text)))
                            return true
                        }
                        var values = [Value](repeating: .null, count: schema.count)
                        for (key, raw) in object.pairs {
                            guard let k = positions[key] else { continue }
                            guard let value = JSONLines.value(raw, as: schema.fields[k].type) else {
                                rejects.append(RejectedRecord(code: "invalid_value", message: "line \(number): key '\(key)' does not fit \(schema.fields[k].type)",
                                                              field: key, source: file, line: number, payload: .text(text)))
                                return true
                            }
                            values[k] = value
                        }
                        for k in values.indices { builders[k].append(values[k]) }
                        rows += 1
                        if rows >= batchRows {
                            pending.append(RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() }))
                            rows = 0
                        }
                        return true
                    } progress: { bytes in
                        context.addBytes(bytes)
                    }
                } catch {
                    throw NodeError(code: "file_unreadable", message: "\(error)")
                }
                if rows > 0 { pending.append(RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() })) }
                try await context.reject(rejects)
                for batch in pending { try await context.emit(batch, on: "out") }
            }
            return nil
        }
    }
}

/// JSON Lines helpers: line iteration, object parsing, type inference and value conversion.
enum JSONLines {
    struct Object {
        var pairs: [(String, Any)]
    }

    /// Calls `body` with each line (without its line end) and its 1-based number; stop by returning false.
    static func forEachLine(path: String, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Bool, progress: (Int) -> Void = { _ in }) throws {
        let input = try FileInput(path: path)
        var pos = 0
        var number = 1
        progress(try input.refill(consumed: 0))
        if input.filled >= 3, input.buffer[0] == 0xEF, input.buffer[1] == 0xBB, input.buffer[2] == 0xBF { pos = 3 }
        while true {
            let (next, stop) = try input.buffer.withUnsafeBufferPointer { b -> (Int, Bool) in
                var p = pos
                while p < input.filled {
                    guard let end = memchr(b.baseAddress! + p, 10, input.filled - p) else {
                        if input.atEOF {
                            let keep = try body(UnsafeBufferPointer(rebasing: b[p..<input.filled]), number)
                            return (input.filled, !keep)
                        }
                        return (p, false)
                    }
                    let e = b.baseAddress!.distance(to: end.assumingMemoryBound(to: UInt8.self))
                    var lineEnd = e
                    if lineEnd > p, b[lineEnd - 1] == 13 { lineEnd -= 1 }
                    let keep = try body(UnsafeBufferPointer(rebasing: b[p..<lineEnd]), number)
                    number += 1
                    p = e + 1
                    if !keep { return (p, true) }
                }
                return (p, false)
            }
            pos = next
            if stop || (input.atEOF && pos >= input.filled) { return }
            progress(try input.refill(consumed: pos))
            pos = 0
        }
    }

    static func object(_ line: UnsafeBufferPointer<UInt8>) -> Object? {
        guard let data = Optional(Data(buffer: line)), let parsed = try? JSONSerialization.jsonObject(with: data, options: []),
              let dictionary = parsed as? [String: Any] else { return nil }
        // JSONSerialization loses key order; restore it from the text so columns follow the file.
        let text = String(decoding: line, as: UTF8.self)
        let ordered = dictionary.keys.sorted { (text.range(of: "\"\($0)\"")?.lowerBound ?? text.endIndex) < (text.range(of: "\"\($1)\"")?.lowerBound ?? text.endIndex) }
        return Object(pairs: ordered.map { ($0, dictionary[$0]!) })
    }

    static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    static func type(of value: Any) -> DataType? {
        switch value {
        case is NSNull: return nil
        case let n as NSNumber:
            if isBool(n) { return .bool }
            return n.stringValue.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? .float64 : .int64
        case is String: return .string
        default: return .json
        }
    }

    static func widen(_ a: DataType?, _ b: DataType?) -> DataType? {
        guard let a else { return b }
        guard let b, a != b else { return a }
        if a.isNumeric, b.isNumeric { return .float64 }
        return .json
    }

    /// Converts a parsed JSON value to the column type; nil if it does not fit.
    static func value(_ raw: Any, as type: DataType) -> Value? {
        if raw is NSNull { return .null }
        switch (type, raw) {
        case let (.bool, n as NSNumber) where isBool(n): return .bool(n.boolValue)
        case let (.int64, n as NSNumber) where !isBool(n):
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.2e18 else { return nil }
            return .int(n.int64Value)
        case let (.float64, n as NSNumber) where !isBool(n): return .float(n.doubleValue)
        case let (.decimal(_, scale), n as NSNumber) where !isBool(n): return .decimal(Int64((n.doubleValue * pow10(scale)).rounded()), scale: scale)
        case let (.string, s as String): return .string(s)
        case let (.date, s as String): return CivilTime.parseDate(s).map(Value.date)
        case let (.timestamp, s as String): return CivilTime.parseTimestamp(s).map(Value.timestamp)
        case let (.bytes, s as String): return .bytes(Array(s.utf8))
        case (.json, _), (.string, _):
            guard let data = try? JSONSerialization.data(withJSONObject: raw, options: [.fragmentsAllowed, .sortedKeys]) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            return type == .json ? .json(text) : .string(text)
        default: return nil
        }
    }
}
