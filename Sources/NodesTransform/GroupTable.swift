import Columnar

/// Maps each row's group-by values to a dense group number, remembering each group's key values.
///
/// Keys are encoded into bytes (type-tagged, NULL-aware) so hashing never builds a `Value` per row.
/// Memory grows with the number of groups, not with the number of rows.
struct GroupTable {
    private var index = KeyIndex()
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
            for column in columns { RowKey.append(column, row, to: &scratch) }
            let (g, isNew) = index.insert(scratch)
            if isNew { keys.append(columns.map { $0.value(at: row) }) }
            result[row] = g
        }
        return result
    }
}
