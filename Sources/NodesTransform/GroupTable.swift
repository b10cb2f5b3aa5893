import Columnar

/// Maps each row's group-by values to a dense group number, remembering each group's key values.
///
/// Keys are encoded into bytes (type-tagged, NULL-aware) so hashing never builds a `Value` per row.
/// Memory grows with the number of groups, not with the number of rows.
struct GroupTable {
    private var index: [[UInt8]: Int] = [:]
    private(set) var keys: [[Value]] = []
    private var scratch: [UInt8] = []

    var count: Int { keys.count }

    /// The group number of every row of `columns` (the group-by columns of one batch).
    mutating func groups(of columns: [Column], rows: Int) -> [Int] {
        if columns.isEmpty {
            if keys.isEmpty { keys.append([]) }
            return [Int](repeating: 0, count: rows)
        }
        var result = [Int](repeating: 0, count: rows)
        for row in 0..<rows {
            scratch.removeAll(keepingCapacity: true)
            for column in columns { encode(column, row) }
            if let g = index[scratch] {
                result[row] = g
            } else {
                let g = keys.count
                index[scratch] = g
                keys.append(columns.map { $0.value(at: row) })
                result[row] = g
            }
        }
        return result
    }

    @inline(__always)
    private mutating func encode(_ column: Column, _ row: Int) {
        if column.isNull(row) { scratch.append(0); return }
        scratch.append(1)
        switch column.buffer {
        case let .bool(v): scratch.append(v[row] ? 1 : 0)
        case let .int64(v): withUnsafeBytes(of: v[row]) { scratch.append(contentsOf: $0) }
        case let .float64(v):
            var d = v[row]
            if d == 0 { d = 0 } // -0.0 and 0.0 are one group
            if d.isNaN { d = .nan }
            withUnsafeBytes(of: d.bitPattern) { scratch.append(contentsOf: $0) }
        case let .bytes(b):
            let r = b.range(row)
            withUnsafeBytes(of: UInt32(r.count)) { scratch.append(contentsOf: $0) }
            b.data.withUnsafeBufferPointer { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: $0[r])) }
        }
    }
}
