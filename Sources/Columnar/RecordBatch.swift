/// An immutable slice of a stream: a schema and one column per field, all the same length.
///
/// Batches are shared, not copied, when an edge fans out: columns are copy-on-write arrays
/// that are never mutated after `finish()`.
public struct RecordBatch: Sendable, Equatable {
    public let schema: Schema
    public let columns: [Column]
    public let count: Int
    /// Where the rows came from, when known (see `RowOrigin`); not part of a batch's equality.
    public var origin: RowOrigin?

    public static func == (lhs: RecordBatch, rhs: RecordBatch) -> Bool {
        lhs.schema == rhs.schema && lhs.count == rhs.count && lhs.columns == rhs.columns
    }

    /// The same rows with other columns (a projection, or columns added): the rows' origin stays.
    public func withColumns(schema: Schema, columns: [Column]) -> RecordBatch {
        var batch = RecordBatch(schema: schema, columns: columns, count: count)
        batch.origin = origin
        return batch
    }

    /// The bytes its columns' buffers hold, for budgeting memory.
    public var approximateBytes: Int { columns.reduce(0) { $0 + $1.approximateBytes } }

    /// A batch of `columns`; `count` is required when there are no columns (a batch of rows whose
    /// values nobody needs, e.g. for `count(*)`), and otherwise must match the columns.
    public init(schema: Schema, columns: [Column], count explicitCount: Int? = nil) {
        precondition(schema.count == columns.count, "schema has \(schema.count) fields but \(columns.count) columns were given")
        let count = columns.first?.count ?? explicitCount ?? 0
        if let explicitCount { precondition(explicitCount == count, "row count \(explicitCount) differs from the columns' \(count)") }
        for column in columns { precondition(column.count == count, "columns of one batch differ in length") }
        self.schema = schema
        self.columns = columns
        self.count = count
    }

    /// A batch with no columns and `count` rows (for sources that only count).
    public init(emptyRows count: Int) {
        schema = .empty
        columns = []
        self.count = count
    }

    public static func empty(_ schema: Schema) -> RecordBatch {
        RecordBatch(schema: schema, columns: schema.fields.map { Column.nulls(type: $0.type, count: 0) })
    }

    public func column(named name: String) -> Column? { schema.index(of: name).map { columns[$0] } }

    /// Row `i` as scalars, in schema order (for previews, logs and rejects; not for hot loops).
    public func row(_ i: Int) -> [Value] { columns.map { $0.value(at: i) } }

    /// The rows whose flag is set.
    public func filtered(_ keep: [Bool]) -> RecordBatch {
        var kept = 0
        for k in keep where k { kept &+= 1 }
        if kept == count { return self }
        var batch = RecordBatch(schema: schema, columns: columns.map { $0.filtered(keep, keptCount: kept) }, count: kept)
        batch.origin = origin?.filtered(keep)
        return batch
    }

    public func slice(_ range: Range<Int>) -> RecordBatch {
        if range == 0..<count { return self }
        var batch = RecordBatch(schema: schema, columns: columns.map { $0.slice(range) }, count: range.count)
        batch.origin = origin?.sliced(range)
        return batch
    }

    /// Only the named columns, in the order given.
    public func projected(_ names: [String]) -> RecordBatch {
        let indices = names.compactMap { schema.index(of: $0) }
        return withColumns(schema: Schema(indices.map { schema.fields[$0] }), columns: indices.map { columns[$0] })
    }

    /// Approximate bytes held by the column buffers.
    public var byteSize: Int {
        columns.reduce(0) { total, column in
            let size = switch column.buffer {
            case let .bool(v): v.count
            case let .int64(v): v.count * 8
            case let .int128(v): v.count * 16
            case let .float64(v): v.count * 8
            case let .bytes(b): b.data.count + b.offsets.count * 8
            }
            return total + size
        }
    }
}

extension RecordBatch {
    /// The batch without the given rows (rows that were rejected); the batch itself when there are none.
    public func removing(rows: some Collection<Int>) -> RecordBatch {
        guard !rows.isEmpty else { return self }
        precondition(rows.allSatisfy { $0 >= 0 && $0 < count }, "row index out of range")
        var keep = [Bool](repeating: true, count: count)
        for r in rows { keep[r] = false }
        return filtered(keep)
    }
}
