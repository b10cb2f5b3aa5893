import Columnar
import NodeKit

/// Rows decoded into column builders a batch at a time; rows that failed are dropped from their batch and
/// kept as rejected records. `BinaryCopyDecoder` fills one.
struct PostgresBatchBuilder {
    let schema: Schema
    let batchRows: Int
    /// One per column; decoders append each row's values here, then call `endRow`.
    var builders: [ColumnBuilder]
    private(set) var count = 0
    /// Rows ended so far, over all batches (the `row` of rejected records).
    private(set) var rowIndex = 0
    private var bad: [Int] = []
    private var rejects: [RejectedRecord] = []

    init(schema: Schema, batchRows: Int) {
        self.schema = schema
        self.batchRows = batchRows
        builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batchRows) }
    }

    var isFull: Bool { count >= batchRows }

    /// Ends the row whose values were just appended; a `rejected` row is left out of the batch and kept.
    mutating func endRow(rejected: RejectedRecord? = nil) {
        if let rejected {
            bad.append(count)
            rejects.append(rejected)
        }
        count += 1
        rowIndex += 1
    }

    /// The rejected record for the current row when the value of `field` does not fit its column type.
    func unfit(field: Int, payload: [(String, Value)]) -> RejectedRecord {
        let name = schema.fields[field].name
        return RejectedRecord(code: "invalid_value", message: "row \(rowIndex): column '\(name)' does not fit \(schema.fields[field].type) (infinity, NaN or out of range)",
                              field: name, row: rowIndex, payload: .row(payload))
    }

    /// The rows ended since the last call (without rejected ones) and the rejected records.
    mutating func takeBatch() -> (batch: RecordBatch, rejects: [RejectedRecord]) {
        let columns = builders.indices.map { builders[$0].finish() }
        let batch = RecordBatch(schema: schema, columns: columns, count: count).removing(rows: bad)
        let taken = rejects
        count = 0
        bad.removeAll()
        rejects.removeAll()
        return (batch, taken)
    }
}
