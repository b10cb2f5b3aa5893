import Columnar
import Foundation
import NodeKit

/// Decodes PostgreSQL's binary COPY format (a signature header, then per row a field count and per field a
/// length and the value's binary form) straight into column builders, a batch at a time.
///
/// Binary COPY carries no types: `oids` are the result types of the selected columns. A value that does not
/// fit its Sluice type (infinite dates, NaN numerics) becomes NULL in the batch and a rejected record.
struct BinaryCopyDecoder {
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    let oids: [UInt32]
    /// An incremental read's cursor column when `nullCursor` is `reject`: a row with NULL there is rejected.
    var rejectNullsIn: Int?
    /// The batch being filled.
    var rows: PostgresBatchBuilder
    private var headerSeen = false
    private(set) var ended = false

    init(schema: Schema, oids: [UInt32], batchRows: Int) {
        self.oids = oids
        rows = PostgresBatchBuilder(schema: schema, batchRows: batchRows)
    }

    var schema: Schema { rows.schema }

    /// Decodes the rows in one CopyData message (the server sends the header, each row and the trailer as
    /// messages of their own, but several rows in one message decode as well).
    mutating func decode(_ payload: UnsafeRawBufferPointer) throws {
        var offset = 0
        if !headerSeen {
            guard payload.count >= 19, Self.signature.elementsEqual(UnsafeRawBufferPointer(rebasing: payload[0..<11])) else {
                throw PostgresWireError.protocolViolation("binary COPY data without its signature")
            }
            let extensionLength = Int(UInt32(bigEndian: payload.loadUnaligned(fromByteOffset: 15, as: UInt32.self)))
            offset = 19 + extensionLength
            headerSeen = true
        }
        let width = rows.builders.count
        while offset < payload.count {
            let rowStart = offset
            guard payload.count - offset >= 2 else { throw PostgresWireError.protocolViolation("a truncated row") }
            let fields = Int16(bigEndian: payload.loadUnaligned(fromByteOffset: offset, as: Int16.self))
            offset += 2
            if fields == -1 { ended = true; return }
            guard Int(fields) == width else { throw PostgresWireError.protocolViolation("a row of \(fields) fields, expected \(width)") }
            var failed: Int?, nullCursor = false
            for k in 0..<width {
                guard payload.count - offset >= 4 else { throw PostgresWireError.protocolViolation("a truncated row") }
                let length = Int(Int32(bigEndian: payload.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                offset += 4
                if length < 0 {
                    rows.builders[k].appendNull()
                    if k == rejectNullsIn { nullCursor = true }
                    continue
                }
                guard payload.count - offset >= length else { throw PostgresWireError.protocolViolation("a truncated value") }
                let value = UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + length)])
                if !PostgresTypes.appendBinary(value, oid: oids[k], to: &rows.builders[k]), failed == nil { failed = k }
                offset += length
            }
            let row = UnsafeRawBufferPointer(rebasing: payload[(rowStart + 2)..<offset])
            if let failed {
                rows.endRow(rejected: rows.unfit(field: failed, payload: values(row)))
            } else if nullCursor, let cursor = rejectNullsIn {
                let name = schema.fields[cursor].name
                rows.endRow(rejected: RejectedRecord(code: "null_cursor", message: "row \(rows.rowIndex): cursor column '\(name)' is NULL (nullCursor is reject)",
                                                     field: name, row: rows.rowIndex, payload: .row(values(row))))
            } else {
                rows.endRow()
            }
        }
    }

    /// A rejected row's values for its record, each decoded again on its own (an unfit one as PostgreSQL prints it).
    private func values(_ row: UnsafeRawBufferPointer) -> [(String, Value)] {
        var payload: [(String, Value)] = []
        var offset = 0
        for k in schema.fields.indices {
            let length = Int(Int32(bigEndian: row.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            offset += 4
            var value = Value.null
            if length >= 0 {
                var one = ColumnBuilder(type: schema.fields[k].type, capacity: 1)
                let raw = UnsafeRawBufferPointer(rebasing: row[offset..<(offset + length)])
                value = PostgresTypes.appendBinary(raw, oid: oids[k], to: &one) ? one.finish().value(at: 0)
                    : .string(Self.describeUnfit(raw, oid: oids[k]))
                offset += length
            }
            payload.append((schema.fields[k].name, value))
        }
        return payload
    }

    /// A value that does not fit, as PostgreSQL would print it where it can tell (infinity, NaN).
    static func describeUnfit(_ raw: UnsafeRawBufferPointer, oid: UInt32) -> String {
        var bytes = BigEndianBytes(raw)
        switch oid {
        case 1082: if let d = bytes.read(Int32.self) { return d == .max ? "infinity" : d == .min ? "-infinity" : "\(d)" }
        case 1114, 1184: if let t = bytes.read(Int64.self) { return t == .max ? "infinity" : t == .min ? "-infinity" : "\(t)" }
        case 1700:
            _ = bytes.read(Int32.self)
            switch bytes.read(UInt16.self) {
            case 0xC000: return "NaN"
            case 0xD000: return "Infinity"
            case 0xF000: return "-Infinity"
            default: return "(a numeric beyond the column's precision)"
            }
        default: break
        }
        return "\\x" + raw.map { String(format: "%02x", $0) }.joined()
    }
}
