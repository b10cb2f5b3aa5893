import Columnar
import Foundation

/// Rows as JSON objects for request bodies: numbers, booleans and text as such, json columns inline, dates and
/// timestamps as ISO 8601 text, decimals as exact numbers, nulls as null.
enum RowJSON {
    static func object(_ batch: RecordBatch, row i: Int, into out: inout String) {
        out += "{"
        for (k, field) in batch.schema.fields.enumerated() {
            if k > 0 { out += "," }
            JSONTree.quote(field.name, into: &out)
            out += ":"
            value(batch.columns[k].value(at: i), into: &out)
        }
        out += "}"
    }

    static func value(_ value: Value, into out: inout String) {
        switch value {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(n): out += String(n)
        case let .float(d): out += d.isFinite ? String(d) : "null"
        case .decimal: out += value.description
        case let .string(s): JSONTree.quote(s, into: &out)
        case let .json(text): out += text
        case .bytes, .date, .timestamp: JSONTree.quote(value.description, into: &out)
        }
    }
}
