/// Raw pointers into one column's buffers, for tight per-row loops that must not retain or copy.
///
/// Valid only inside `RecordBatch.withCursors`, which keeps the batch (and so every buffer) alive and
/// unmodified; batches are immutable, so the addresses cannot move meanwhile.
public struct ColumnCursor {
    public let type: DataType
    public let ints: UnsafePointer<Int64>?
    /// Decimals of 19 to 38 digits.
    public var wides: UnsafePointer<Int128>? = nil
    public let doubles: UnsafePointer<Double>?
    public let bools: UnsafePointer<Bool>?
    public let offsets: UnsafePointer<Int>?
    public let data: UnsafePointer<UInt8>?
    public let validity: UnsafePointer<UInt64>?

    @inline(__always)
    public func isNull(_ i: Int) -> Bool {
        guard let validity else { return false }
        return validity[i &>> 6] & (1 &<< UInt64(i & 63)) == 0
    }

    /// A decimal's scaled value (or an integer) in 128 bits, whichever width it is stored in.
    @inline(__always)
    public func exact(_ i: Int) -> Int128 { wides?[i] ?? Int128(truncatingIfNeeded: ints![i]) }

    /// The bytes of a string, bytes or json value.
    @inline(__always)
    public func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = offsets![i]
        return UnsafeBufferPointer(start: data.map { $0 + start } ?? nil, count: offsets![i &+ 1] &- start)
    }
}

extension RecordBatch {
    /// Calls `body` with a cursor per column; the cursors must not escape `body`.
    public func withCursors<T>(_ body: ([ColumnCursor]) throws -> T) rethrows -> T {
        try withExtendedLifetime(self) {
            let cursors = columns.map { column -> ColumnCursor in
                // The arrays below are owned by `self`, which outlives `body`, and are never mutated.
                let validity = column.validity.map { $0.words.withUnsafeBufferPointer { $0.baseAddress } } ?? nil
                switch column.buffer {
                case let .int64(v):
                    return ColumnCursor(type: column.type, ints: v.withUnsafeBufferPointer { $0.baseAddress }, doubles: nil, bools: nil, offsets: nil, data: nil, validity: validity)
                case let .int128(v):
                    return ColumnCursor(type: column.type, ints: nil, wides: v.withUnsafeBufferPointer { $0.baseAddress }, doubles: nil, bools: nil, offsets: nil, data: nil, validity: validity)
                case let .float64(v):
                    return ColumnCursor(type: column.type, ints: nil, doubles: v.withUnsafeBufferPointer { $0.baseAddress }, bools: nil, offsets: nil, data: nil, validity: validity)
                case let .bool(v):
                    return ColumnCursor(type: column.type, ints: nil, doubles: nil, bools: v.withUnsafeBufferPointer { $0.baseAddress }, offsets: nil, data: nil, validity: validity)
                case let .bytes(b):
                    return ColumnCursor(type: column.type, ints: nil, doubles: nil, bools: nil, offsets: b.offsets.withUnsafeBufferPointer { $0.baseAddress },
                                        data: b.data.withUnsafeBufferPointer { $0.baseAddress }, validity: validity)
                }
            }
            return try body(cursors)
        }
    }
}
