import Columnar
import NodeKit

/// Turns scanned CSV records into typed column batches; rows that do not fit are collected as rejects.
///
/// A row with a bad value is appended (as NULLs) and dropped when the batch is finished, so the
/// common case (no bad rows) never copies columns.
final class CSVBatchDecoder {
    private let scanner: CSVScanner
    private let types: [DataType]
    private let names: [String]
    private let nullMarkers: [[UInt8]]
    /// For each output column, the position of its field in a record.
    private let fieldIndex: [Int]
    private let expectedFields: Int
    private let batchRows: Int
    private var decoders: [FieldDecoder]
    private let fields: FieldSpans
    private var scratch: [UInt8] = []
    private(set) var rows = 0
    private var badRows: [Int] = []
    var rejects: [RejectedRecord] = []
    /// Line number of the next record.
    var line = 1
    /// The line (relative to where this decoder started) of each row in the batch being built.
    var rowLines: [Int64] = []
    var source = ""
    /// When set, an unterminated quoted field stops decoding instead of being rejected: the bytes may
    /// continue in the next chunk. `unterminatedAt` then holds where that record starts.
    var stopAtUnterminated = false
    private(set) var unterminatedAt: Int?

    init(scanner: CSVScanner, names: [String], types: [DataType], fieldIndex: [Int], expectedFields: Int, nullMarkers: [[UInt8]], batchRows: Int,
         invalidText: UTF8Validation.Policy = .reject) {
        self.scanner = scanner
        self.names = names
        self.types = types
        self.fieldIndex = fieldIndex
        self.expectedFields = expectedFields
        self.nullMarkers = nullMarkers
        self.batchRows = batchRows
        decoders = types.map { FieldDecoder(type: $0, nullMarkers: nullMarkers, capacity: batchRows, invalidText: invalidText) }
        fields = FieldSpans(capacity: expectedFields + 1)
    }

    var isFull: Bool { rows >= batchRows }

    /// Decodes records from `b[start...]` until the batch is full or the bytes run out.
    /// Returns where decoding stopped; when `atEOF` is false an incomplete tail is left for the next call.
    func decode(_ b: UnsafeBufferPointer<UInt8>, from start: Int, atEOF: Bool) -> Int {
        // Work on locals: class properties would pay an exclusivity check on every field.
        var decoders = self.decoders, rows = self.rows, line = self.line, rowLines = self.rowLines
        let fields = self.fields
        self.decoders = []
        self.rowLines = []
        defer {
            self.decoders = decoders
            self.rows = rows
            self.line = line
            self.rowLines = rowLines
        }
        if rowLines.isEmpty { rowLines.reserveCapacity(batchRows) }
        let fieldIndex = self.fieldIndex, expectedFields = self.expectedFields, batchRows = self.batchRows
        var pos = start
        while rows < batchRows, pos < b.count {
            switch scanner.scan(b, from: pos, atEOF: atEOF, fields: fields) {
            case .incomplete:
                return pos
            case let .unterminated(next, newlines):
                if stopAtUnterminated {
                    unterminatedAt = pos
                    return b.count
                }
                reject(b, pos, next, line: line, code: "malformed_record", message: "unterminated quoted field: missing closing quote", field: nil)
                line &+= newlines
                pos = next
            case let .malformed(next, newlines, reason):
                reject(b, pos, next, line: line, code: "malformed_record", message: reason, field: nil)
                line &+= newlines
                pos = next
            case let .record(next, newlines):
                defer {
                    line &+= newlines
                    pos = next
                }
                if fields.count == 1, !fields[0].quoted, fields[0].start == fields[0].end { continue } // blank line
                guard fields.count == expectedFields else {
                    reject(b, pos, next, line: line, code: "ragged_row", message: "expected \(expectedFields) fields but found \(fields.count)", field: nil)
                    continue
                }
                var bad = false
                for k in 0..<fieldIndex.count {
                    let span = fields[fieldIndex[k]]
                    var ok: Bool
                    if span.hasEscapedQuote {
                        unescape(b, span)
                        ok = scratch.withUnsafeBufferPointer { decoders[k].append($0, quoted: true) }
                    } else {
                        ok = decoders[k].append(UnsafeBufferPointer(rebasing: b[span.start..<span.end]), quoted: span.quoted)
                    }
                    if !ok, !bad {
                        bad = true
                        let text = String(decoding: UnsafeBufferPointer(rebasing: b[span.start..<span.end]), as: UTF8.self)
                        let reason = types[k] == .string || types[k] == .json ? "is not valid UTF-8 text (set invalidText: replace to keep it with U+FFFD)" : "is not a valid \(types[k])"
                        reject(b, pos, next, line: line, code: "invalid_value", message: "column '\(names[k])': \"\(text)\" \(reason)", field: names[k])
                    }
                }
                if bad { badRows.append(rows) }
                rowLines.append(Int64(line))
                rows &+= 1
            }
        }
        return pos
    }

    /// The decoded rows as a batch (bad rows removed); resets for the next batch.
    func finishBatch(schema: Schema) -> RecordBatch {
        var columns: [Column] = []
        for k in decoders.indices { columns.append(decoders[k].builder.finish()) }
        var batch = RecordBatch(schema: schema, columns: columns, count: rows)
        batch.origin = RowOrigin(file: source.isEmpty ? nil : source, unit: .line, positions: rowLines)
        batch = batch.removing(rows: badRows)
        rows = 0
        rowLines = []
        badRows.removeAll(keepingCapacity: true)
        return batch
    }

    /// The field values of one record, unescaped (for the header).
    func recordStrings(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        fields.array.map { span in
            if span.hasEscapedQuote { unescape(b, span); return String(decoding: scratch, as: UTF8.self) }
            return String(decoding: UnsafeBufferPointer(rebasing: b[span.start..<span.end]), as: UTF8.self)
        }
    }

    /// Scans just one record (the header), returning its next position or nil if more bytes are needed.
    func scanHeader(_ b: UnsafeBufferPointer<UInt8>, from start: Int, atEOF: Bool) -> (next: Int, names: [String])? {
        switch scanner.scan(b, from: start, atEOF: atEOF, fields: fields) {
        case .incomplete: return nil
        case let .record(next, newlines), let .malformed(next, newlines, _), let .unterminated(next, newlines):
            line &+= newlines
            return (next, recordStrings(b))
        }
    }

    private func unescape(_ b: UnsafeBufferPointer<UInt8>, _ span: FieldSpan) {
        scratch.removeAll(keepingCapacity: true)
        var i = span.start
        while i < span.end {
            scratch.append(b[i])
            if b[i] == scanner.quote { i &+= 1 }
            i &+= 1
        }
    }

    private func reject(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, line: Int, code: String, message: String, field: String?) {
        var e = end
        while e > start, b[e - 1] == 10 || b[e - 1] == 13 { e -= 1 }
        let raw = String(decoding: UnsafeBufferPointer(rebasing: b[start..<e]), as: UTF8.self)
        // `line` is relative to where this decoder started; the reader adds the offset and the "line N:" prefix.
        rejects.append(RejectedRecord(code: code, message: message, field: field, source: source, line: line, payload: .text(raw)))
    }
}
