public import Columnar

/// The `rejected` output port (dead-letter routing): when a node that rejects records has this port connected,
/// its rejected records also flow downstream as rows, with why and where they failed.
///
/// A node with a data input sends its input's columns (the values the record had when it was rejected); a source,
/// which has no input columns, sends the raw record (`_raw`, with `_source` and `_line`). Both add `_error_code`,
/// `_error_message`, `_node` and `_trace_id`.
public enum RejectedPort {
    public static let name = "rejected"
    public static let spec = PortSpec.data(name, "Rejected records as rows (input columns, or _raw for a source) with _error_code, _error_message, _node and _trace_id; optional.",
                                           optional: true)

    /// The columns every rejected row carries after the record's own.
    public static let errorFields = [SchemaField("_error_code", .string), SchemaField("_error_message", .string), SchemaField("_node", .string), SchemaField("_trace_id", .string)]
    /// A source's record columns.
    public static let rawFields = [SchemaField("_raw", .string), SchemaField("_source", .string), SchemaField("_line", .int64)]

    /// The port's schema for a node whose (first) data input has `input`, or a source when nil.
    public static func schema(input: Schema?) -> Schema {
        let own = input.map { $0.fields.filter { !$0.name.hasPrefix("_error_") && !["_node", "_trace_id"].contains($0.name) } } ?? rawFields
        return Schema(own.map { SchemaField($0.name, $0.type) } + errorFields)
    }

    /// The rows for `records`, in `schema`. A row payload fills the columns it names (values converted to the
    /// column's type where they fit, as `ColumnBuilder.append` does); a text payload fills `_raw`.
    public static func batch(_ records: [RejectedRecord], schema: Schema, node: String, traceID: String) -> RecordBatch {
        var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: records.count) }
        for record in records {
            var values: [String: Value] = [:]
            switch record.payload {
            case let .text(raw): values["_raw"] = .string(raw)
            case let .row(pairs): for pair in pairs where values[pair.name] == nil { values[pair.name] = pair.value }
            }
            values["_source"] = record.source.map(Value.string) ?? .null
            values["_line"] = record.line.map { .int(Int64($0)) } ?? .null
            values["_error_code"] = .string(record.code)
            values["_error_message"] = .string(record.message)
            values["_node"] = .string(node)
            values["_trace_id"] = .string(traceID)
            for (i, field) in schema.fields.enumerated() {
                builders[i].append(values[field.name] ?? .null)
            }
        }
        return RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() }, count: records.count)
    }
}
