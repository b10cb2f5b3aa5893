import Columnar
import NodeKit

/// Turns JSON Lines into typed column batches, one line at a time, without per-line dictionaries.
///
/// Values are appended to their column as keys arrive; at the end of a line every column without a
/// value gets NULL. A line that is not an object, repeats a key, or has a value that does not fit its
/// column is rejected (its row is dropped when the batch is finished).
final class JSONLBatchDecoder {
    private let schema: Schema
    private let names: [[UInt8]]
    private let batchRows: Int
    private var builders: [ColumnBuilder]
    private var filled: [Bool]
    private var scanner = JSONScanner()
    private var badRows: [Int] = []
    private(set) var rows = 0
    var rejects: [RejectedRecord] = []
    /// Keys met that are not columns, with how often (reported once at the end).
    private(set) var unknownKeys: [String: Int] = [:]
    var line = 1
    /// The line of each row in the batch being built.
    private var rowLines: [Int64] = []
    var source = ""

    /// What happens to a line that is not valid UTF-8 (JSON text must be).
    let invalidText: UTF8Validation.Policy

    init(schema: Schema, batchRows: Int, invalidText: UTF8Validation.Policy = .reject) {
        self.schema = schema
        self.invalidText = invalidText
        self.batchRows = batchRows
        names = schema.names.map { Array($0.utf8) }
        builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batchRows) }
        filled = [Bool](repeating: false, count: schema.count)
    }

    var isFull: Bool { rows >= batchRows }

    /// Decodes lines from `b[start...]` until the batch is full or only an incomplete line is left
    /// (a last line without a line end counts as complete when `atEOF`). Returns where it stopped.
    func decode(_ b: UnsafeBufferPointer<UInt8>, from start: Int, atEOF: Bool) -> Int {
        var pos = start
        while rows < batchRows, pos < b.count {
            var end = pos
            if let hit = memchr(b.baseAddress! + pos, 10, b.count - pos) {
                end = b.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            } else if atEOF {
                end = b.count
            } else {
                return pos
            }
            var lineEnd = end
            if lineEnd > pos, b[lineEnd - 1] == 13 { lineEnd -= 1 }
            decodeLine(UnsafeBufferPointer(rebasing: b[pos..<lineEnd]))
            line += 1
            pos = min(end + 1, b.count)
        }
        return pos
    }

    private func decodeLine(_ text: UnsafeBufferPointer<UInt8>) {
        guard UTF8Validation.isValid(text) else {
            if invalidText == .replace {
                UTF8Validation.repaired(text).withUnsafeBufferPointer { decodeValidLine($0) }
            } else {
                rejects.append(RejectedRecord(code: "invalid_text", message: "line \(line) is not valid UTF-8 text (set invalidText: replace to keep it with U+FFFD)",
                                              source: source, line: line, payload: .text(String(decoding: text, as: UTF8.self))))
                badRows.append(rows)
                for k in filled.indices { builders[k].appendNull() }
                rows += 1
            }
            return
        }
        decodeValidLine(text)
    }

    private func decodeValidLine(_ text: UnsafeBufferPointer<UInt8>) {
        if text.allSatisfy({ $0 == 32 || $0 == 9 }) { return }
        for k in filled.indices { filled[k] = false }
        var hint = 0
        do {
            try scanner.object(text) { key, value, scratch throws(JSONScanner.Failure) in
                guard let k = index(of: key, hint: hint) else {
                    unknownKeys[String(decoding: key, as: UTF8.self), default: 0] += 1
                    return
                }
                hint = k + 1
                guard !filled[k] else { throw JSONScanner.Failure(message: "key '\(schema.fields[k].name)' appears twice") }
                guard append(value, scratch, to: k) else {
                    throw JSONScanner.Failure(message: "key '\(schema.fields[k].name)': value does not fit \(schema.fields[k].type)")
                }
                filled[k] = true
            }
        } catch {
            let field = error.message.hasPrefix("key '") ? error.message.dropFirst(5).prefix { $0 != "'" } : nil
            rejects.append(RejectedRecord(code: error.message.contains("does not fit") ? "invalid_value" : "malformed_record",
                                          message: "line \(line): \(error.message)", field: field.map(String.init), source: source, line: line,
                                          payload: .text(String(decoding: text, as: UTF8.self))))
            badRows.append(rows)
        }
        for k in filled.indices where !filled[k] { builders[k].appendNull() }
        rowLines.append(Int64(line))
        rows += 1
    }

    /// The column for a key: the one after the previous key first (keys usually keep their order).
    private func index(of key: UnsafeBufferPointer<UInt8>, hint: Int) -> Int? {
        if hint < names.count, matches(names[hint], key) { return hint }
        for k in names.indices where k != hint && matches(names[k], key) { return k }
        return nil
    }

    private func matches(_ name: [UInt8], _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count == key.count && name.withUnsafeBufferPointer { $0.elementsEqual(key) }
    }

    /// Appends a value to column `k`; false (appending nothing) if it does not fit the column type.
    private func append(_ value: ScannedJSON, _ scratch: [UInt8], to k: Int) -> Bool {
        let type = schema.fields[k].type
        if case .null = value { builders[k].appendNull(); return true }
        switch (type, value) {
        case let (.bool, .bool(v)): builders[k].appendBool(v)
        case let (.int64, .number(text, _)):
            if let v = TextParsing.int64(text) { builders[k].appendInt64(v) } else if let d = TextParsing.double(text), d == d.rounded(), abs(d) < 9.2e18 {
                builders[k].appendInt64(Int64(d))
            } else { return false }
        case let (.float64, .number(text, _)):
            guard let v = TextParsing.double(text) else { return false }
            builders[k].appendDouble(v)
        case let (.decimal(precision, scale), .number(text, _)) where precision > ExactDecimal.narrowPrecision:
            guard let v = DecimalText.parse(text, scale: scale).flatMap({ ExactDecimal.fitting($0, precision: precision) }) else { return false }
            builders[k].appendInt128(v)
        case let (.decimal(precision, scale), .number(text, _)):
            guard let v = TextParsing.decimal(text, scale: scale), Double(v.magnitude) < pow10(precision) else { return false }
            builders[k].appendInt64(v)
        case (.string, .string), (.bytes, .string), (.string, .nested), (.json, .nested):
            scratch.withUnsafeBufferPointer { builders[k].appendBytes($0) }
        case let (.string, .number(text, _)), let (.json, .number(text, _)): builders[k].appendBytes(text)
        case let (.string, .bool(v)), let (.json, .bool(v)): builders[k].appendString(v ? "true" : "false")
        case (.json, .string):
            var quoted: [UInt8] = []
            scratch.withUnsafeBufferPointer { JSONText.appendString($0, to: &quoted) }
            builders[k].appendBytes(quoted)
        case (.date, .string):
            guard let v = scratch.withUnsafeBufferPointer({ CivilTime.parseDate($0) }) else { return false }
            builders[k].appendInt64(v)
        case (.timestamp, .string):
            guard let v = scratch.withUnsafeBufferPointer({ CivilTime.parseTimestamp($0) }) else { return false }
            builders[k].appendInt64(v)
        default: return false
        }
        return true
    }

    /// The decoded rows as a batch (rejected rows removed); resets for the next batch.
    func finishBatch() -> RecordBatch {
        var columns: [Column] = []
        for k in builders.indices { columns.append(builders[k].finish()) }
        var batch = RecordBatch(schema: schema, columns: columns, count: rows)
        batch.origin = RowOrigin(file: source.isEmpty ? nil : source, unit: .line, positions: rowLines)
        batch = batch.removing(rows: badRows)
        rows = 0
        rowLines.removeAll(keepingCapacity: true)
        badRows.removeAll(keepingCapacity: true)
        return batch
    }

    /// Infers column types from lines: keys in order of first appearance, numbers widen to float64,
    /// other mixes become json.
    static func infer(_ b: UnsafeBufferPointer<UInt8>, maxLines: Int, order: inout [String], types: inout [String: DataType]) -> Int {
        var scanner = JSONScanner()
        var seen = 0, pos = 0
        while seen < maxLines, pos < b.count {
            let end = memchr(b.baseAddress! + pos, 10, b.count - pos).map { b.baseAddress!.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? b.count
            let text = UnsafeBufferPointer(rebasing: b[pos..<end])
            pos = end + 1
            var keys: [(String, DataType?)] = []
            guard (try? scanner.object(text, { key, value, _ throws(JSONScanner.Failure) in
                keys.append((String(decoding: key, as: UTF8.self), value.inferredType))
            })) != nil else { continue }
            seen += 1
            for (name, type) in keys {
                if !order.contains(name) { order.append(name) }
                types[name] = widen(types[name], type)
            }
        }
        return seen
    }

    static func widen(_ a: DataType?, _ b: DataType?) -> DataType? {
        guard let a else { return b }
        guard let b, a != b else { return a }
        if a.isNumeric, b.isNumeric { return .float64 }
        return .json
    }
}

#if canImport(Glibc)
import Glibc
#endif
