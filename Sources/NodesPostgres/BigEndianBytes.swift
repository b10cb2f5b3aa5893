/// Reads big-endian integers from raw bytes (PostgreSQL's binary formats), front to back, without copying.
struct BigEndianBytes {
    private let raw: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    var remaining: Int { raw.count - offset }

    /// The next integer, or nil when fewer than its size bytes remain.
    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard raw.count - offset >= size else { return nil }
        let value = raw.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }
}
