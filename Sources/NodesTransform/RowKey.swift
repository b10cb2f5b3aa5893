import Columnar

/// Encodes a row's key columns into bytes (type-tagged, NULL-aware), so hashing and comparing keys never builds a
/// `Value` per row. Equal keys give equal bytes: -0.0 and 0.0 are one key, and so are all NaNs.
enum RowKey {
    /// Appends row `row` of `column` to `out`: a NULL marker, or a valid marker and the value's bytes.
    @inline(__always)
    static func append(_ column: Column, _ row: Int, to out: inout [UInt8]) {
        if column.isNull(row) { out.append(0); return }
        out.append(1)
        switch column.buffer {
        case let .bool(v): out.append(v[row] ? 1 : 0)
        case let .int64(v): withUnsafeBytes(of: v[row]) { out.append(contentsOf: $0) }
        case let .int128(v): withUnsafeBytes(of: v[row]) { out.append(contentsOf: $0) }
        case let .float64(v):
            var d = v[row]
            if d == 0 { d = 0 }
            if d.isNaN { d = .nan }
            withUnsafeBytes(of: d.bitPattern) { out.append(contentsOf: $0) }
        case let .bytes(b):
            let r = b.range(row)
            withUnsafeBytes(of: UInt32(r.count)) { out.append(contentsOf: $0) }
            b.data.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[r])) }
        }
    }

    /// Whether any of the key columns is NULL in `row` (such a key matches nothing in a join, as in SQL).
    @inline(__always)
    static func hasNull(_ columns: [Column], _ row: Int) -> Bool {
        for column in columns where column.isNull(row) { return true }
        return false
    }
}
