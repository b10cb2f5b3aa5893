import Columnar
import Foundation

/// Where consecutive rows differ on some columns (partition and peer boundaries of sorted rows), computed column by
/// column with typed loops rather than one generic comparison per row. NULL equals NULL here, as in grouping.
enum RowChanges {
    /// `result[i]` is true when row i differs from row i - 1 on any of `columns` (row 0: false).
    static func differs(_ batch: RecordBatch, columns: [Int]) -> [Bool] {
        let n = batch.count
        var result = [Bool](repeating: false, count: n)
        guard n > 1 else { return result }
        for index in columns {
            let column = batch.columns[index]
            var differs = [Bool](repeating: false, count: n)
            differs.withUnsafeMutableBufferPointer { out in
                switch column.buffer {
                case let .int64(v):
                    v.withUnsafeBufferPointer { v in for i in 1..<n { out[i] = v[i] != v[i - 1] } }
                case let .int128(v):
                    v.withUnsafeBufferPointer { v in for i in 1..<n { out[i] = v[i] != v[i - 1] } }
                case let .float64(v):
                    // -0 equals 0 and NaN equals NaN, as in the sort order.
                    v.withUnsafeBufferPointer { v in for i in 1..<n { out[i] = NormalizedKeys.encode(v[i]) != NormalizedKeys.encode(v[i - 1]) } }
                case let .bool(v):
                    for i in 1..<n { out[i] = v[i] != v[i - 1] }
                case let .bytes(b):
                    b.offsets.withUnsafeBufferPointer { offsets in
                        b.data.withUnsafeBufferPointer { data in
                            for i in 1..<n {
                                let s = offsets[i], e = offsets[i + 1], ps = offsets[i - 1]
                                out[i] = e - s != s - ps || (e > s && memcmp(data.baseAddress! + s, data.baseAddress! + ps, e - s) != 0)
                            }
                        }
                    }
                }
                if let validity = column.validity {
                    // Placeholders under NULL mean nothing: NULL next to NULL is no change, NULL next to a value is.
                    for i in 1..<n {
                        let a = validity[i - 1], b = validity[i]
                        if a != b { out[i] = true } else if !a { out[i] = false }
                    }
                }
            }
            for i in 1..<n where differs[i] { result[i] = true }
        }
        return result
    }
}
