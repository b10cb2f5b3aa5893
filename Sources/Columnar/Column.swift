/// Variable-length values (strings, bytes, json) as one contiguous UTF-8 buffer plus offsets.
///
/// Value `i` occupies `data[offsets[i]..<offsets[i + 1]]`; `offsets.count == count + 1`.
public struct VariableWidthBuffer: Sendable, Equatable {
    public let offsets: [Int]
    public let data: [UInt8]

    public init(offsets: [Int], data: [UInt8]) {
        precondition(!offsets.isEmpty, "offsets need a leading 0")
        self.offsets = offsets
        self.data = data
    }

    public var count: Int { offsets.count - 1 }

    @inline(__always)
    public func range(_ i: Int) -> Range<Int> { offsets[i]..<offsets[i + 1] }

    /// The bytes of value `i` as a String (decoding as UTF-8, repairing invalid sequences).
    public func string(at i: Int) -> String {
        let r = range(i)
        return data.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[r]), as: UTF8.self) }
    }

    public func bytes(at i: Int) -> ArraySlice<UInt8> { data[range(i)] }
}

/// The typed buffer behind a column.
public enum ColumnBuffer: Sendable, Equatable {
    case bool([Bool])
    case int64([Int64])
    /// Decimals of 19 to 38 digits.
    case int128([Int128])
    case float64([Double])
    case bytes(VariableWidthBuffer)
}

/// An immutable column: a typed contiguous buffer plus an optional validity bitmap (`nil` = no nulls).
///
/// Slots whose validity bit is clear hold an arbitrary placeholder (0, false, empty).
public struct Column: Sendable, Equatable {
    public let type: DataType
    public let buffer: ColumnBuffer
    public let validity: Bitmap?
    public let count: Int

    public init(type: DataType, buffer: ColumnBuffer, validity: Bitmap?) {
        self.type = type
        self.buffer = buffer
        self.count = switch buffer {
        case let .bool(v): v.count
        case let .int64(v): v.count
        case let .int128(v): v.count
        case let .float64(v): v.count
        case let .bytes(b): b.count
        }
        if let validity { precondition(validity.count == count, "validity length differs from column length") }
        self.validity = (validity?.allSet ?? true) ? nil : validity
    }

    @inline(__always)
    public func isNull(_ i: Int) -> Bool { validity.map { !$0[i] } ?? false }

    /// The bytes its buffers hold (values, offsets, validity), for budgeting memory.
    public var approximateBytes: Int {
        let values = switch buffer {
        case let .bool(v): v.count
        case let .int64(v): v.count * 8
        case let .int128(v): v.count * 16
        case let .float64(v): v.count * 8
        case let .bytes(b): b.data.count + b.offsets.count * 8
        }
        return values + (validity == nil ? 0 : (count + 7) / 8)
    }

    public var nullCount: Int { validity.map { count - $0.setCount } ?? 0 }

    public var int64Values: [Int64] {
        guard case let .int64(v) = buffer else { preconditionFailure("column of type \(type) has no int64 buffer") }
        return v
    }

    public var int128Values: [Int128] {
        guard case let .int128(v) = buffer else { preconditionFailure("column of type \(type) has no int128 buffer") }
        return v
    }

    /// A decimal or integer column's scaled values in 128 bits, whichever width it is stored in.
    public var exactValues: [Int128] {
        switch buffer {
        case let .int128(v): v
        case let .int64(v): v.map { Int128(truncatingIfNeeded: $0) }
        default: preconditionFailure("column of type \(type) holds no exact numbers")
        }
    }

    public var float64Values: [Double] {
        guard case let .float64(v) = buffer else { preconditionFailure("column of type \(type) has no float64 buffer") }
        return v
    }

    public var boolValues: [Bool] {
        guard case let .bool(v) = buffer else { preconditionFailure("column of type \(type) has no bool buffer") }
        return v
    }

    public var byteValues: VariableWidthBuffer {
        guard case let .bytes(v) = buffer else { preconditionFailure("column of type \(type) has no byte buffer") }
        return v
    }

    /// The value at row `i` as a scalar (for previews, parameters and tests, not hot loops).
    public func value(at i: Int) -> Value {
        if isNull(i) { return .null }
        switch (type, buffer) {
        case let (.bool, .bool(v)): return .bool(v[i])
        case let (.int64, .int64(v)): return .int(v[i])
        case let (.date, .int64(v)): return .date(v[i])
        case let (.timestamp, .int64(v)): return .timestamp(v[i])
        case let (.decimal(_, scale), .int64(v)): return .decimal(Int128(truncatingIfNeeded: v[i]), scale: scale)
        case let (.decimal(_, scale), .int128(v)): return .decimal(v[i], scale: scale)
        case let (.float64, .float64(v)): return .float(v[i])
        case let (.string, .bytes(b)): return .string(b.string(at: i))
        case let (.json, .bytes(b)): return .json(b.string(at: i))
        case let (.bytes, .bytes(b)): return .bytes(Array(b.bytes(at: i)))
        default: preconditionFailure("column type \(type) does not match its buffer")
        }
    }

    /// A column holding only the rows whose `keep` flag is set, in order.
    public func filtered(_ keep: [Bool], keptCount: Int) -> Column {
        var rows = [Int32]()
        rows.reserveCapacity(keptCount)
        for i in 0..<count where keep[i] { rows.append(Int32(i)) }
        return rows.withUnsafeBufferPointer { gathered($0) }
    }

    /// Rows `range` of this column as a new column (bulk copies of the buffers).
    public func slice(_ range: Range<Int>) -> Column {
        if range == 0..<count { return self }
        let bits = validity.map { v in Bitmap(range.lazy.map { v[$0] }) }
        switch buffer {
        case let .bool(v): return Column(type: type, buffer: .bool(Array(v[range])), validity: bits)
        case let .int64(v): return Column(type: type, buffer: .int64(Array(v[range])), validity: bits)
        case let .int128(v): return Column(type: type, buffer: .int128(Array(v[range])), validity: bits)
        case let .float64(v): return Column(type: type, buffer: .float64(Array(v[range])), validity: bits)
        case let .bytes(b):
            let base = b.offsets[range.lowerBound], end = b.offsets[range.upperBound]
            let offsets = b.offsets[range.lowerBound...range.upperBound].map { $0 - base }
            return Column(type: type, buffer: .bytes(VariableWidthBuffer(offsets: offsets, data: Array(b.data[base..<end]))), validity: bits)
        }
    }

    /// A column repeating one value `count` times.
    public static func constant(_ value: Value, type: DataType, count: Int) -> Column {
        var builder = ColumnBuilder(type: type, capacity: count)
        for _ in 0..<count { builder.append(value) }
        return builder.finish()
    }

    /// A column of the given type where every row is NULL.
    public static func nulls(type: DataType, count: Int) -> Column {
        var builder = ColumnBuilder(type: type, capacity: count)
        for _ in 0..<count { builder.appendNull() }
        return builder.finish()
    }
}
