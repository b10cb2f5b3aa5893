/// Accumulates values of one type and produces an immutable `Column`.
///
/// Only the buffer matching the type's storage is used. The validity bitmap is materialized
/// on the first NULL, so null-free columns cost nothing extra.
public struct ColumnBuilder {
    public let type: DataType
    private var bools: [Bool] = []
    private var ints: [Int64] = []
    private var wides: [Int128] = []
    private var doubles: [Double] = []
    private var offsets: [Int] = [0]
    private var data: [UInt8] = []
    /// Validity words, created on the first NULL (`nil` means every row so far is valid).
    private var validWords: [UInt64]?
    public private(set) var count = 0

    public init(type: DataType, capacity: Int = 0) {
        self.type = type
        switch type.storage {
        case .bool: bools.reserveCapacity(capacity)
        case .int64: ints.reserveCapacity(capacity)
        case .int128: wides.reserveCapacity(capacity)
        case .float64: doubles.reserveCapacity(capacity)
        case .bytes:
            offsets.reserveCapacity(capacity + 1)
            data.reserveCapacity(capacity * 8)
        }
    }

    @inline(__always)
    private mutating func markValid() {
        if validWords != nil {
            let word = count &>> 6
            if word >= validWords!.count { validWords!.append(0) }
            validWords![word] |= 1 &<< UInt64(count & 63)
        }
        count &+= 1
    }

    public mutating func appendNull() {
        if validWords == nil {
            var words = [UInt64](repeating: ~0, count: (count + 63) >> 6)
            if count & 63 != 0 { words[words.count - 1] = (1 << UInt64(count & 63)) - 1 }
            validWords = words
        }
        if (count &>> 6) >= validWords!.count { validWords!.append(0) }
        switch type.storage {
        case .bool: bools.append(false)
        case .int64: ints.append(0)
        case .int128: wides.append(0)
        case .float64: doubles.append(0)
        case .bytes: offsets.append(data.count)
        }
        count &+= 1
    }

    @inline(__always)
    public mutating func appendBool(_ v: Bool) { bools.append(v); markValid() }

    @inline(__always)
    public mutating func appendInt64(_ v: Int64) { ints.append(v); markValid() }

    @inline(__always)
    public mutating func appendInt128(_ v: Int128) { wides.append(v); markValid() }

    /// Appends a decimal's scaled value (at this builder's scale) in whichever width the type stores.
    @inline(__always)
    public mutating func appendExact(_ v: Int128) {
        if type.storage == .int128 { appendInt128(v) } else { appendInt64(Int64(truncatingIfNeeded: v)) }
    }

    @inline(__always)
    public mutating func appendDouble(_ v: Double) { doubles.append(v); markValid() }

    @inline(__always)
    public mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        data.append(contentsOf: bytes)
        offsets.append(data.count)
        markValid()
    }

    public mutating func appendBytes(_ bytes: some Sequence<UInt8>) {
        data.append(contentsOf: bytes)
        offsets.append(data.count)
        markValid()
    }

    public mutating func appendString(_ s: String) {
        var s = s
        s.withUTF8 { data.append(contentsOf: $0) }
        offsets.append(data.count)
        markValid()
    }

    /// Appends a scalar, converting between compatible representations (int ↔ float ↔ decimal, text kinds).
    /// Values that cannot be represented become NULL; callers that must reject instead check first.
    public mutating func append(_ value: Value) {
        switch (type.storage, value) {
        case (_, .null): appendNull()
        case let (.bool, .bool(b)): appendBool(b)
        case let (.int64, .int(i)):
            if case let .decimal(precision, scale) = type { appendDecimal(Int128(i), scale: 0, precision: precision, target: scale) } else { appendInt64(i) }
        case let (.int64, .date(d)): appendInt64(d)
        case let (.int64, .timestamp(t)): appendInt64(t)
        case let (.int64, .decimal(v, scale)), let (.int128, .decimal(v, scale)):
            if case let .decimal(precision, target) = type {
                appendDecimal(v, scale: scale, precision: precision, target: target)
            } else if let whole = ExactDecimal.rescale(v, from: scale, to: 0).flatMap({ Int64(exactly: $0) }) {
                appendInt64(whole)
            } else {
                appendNull()
            }
        case let (.int128, .int(i)):
            if case let .decimal(precision, scale) = type { appendDecimal(Int128(i), scale: 0, precision: precision, target: scale) } else { appendNull() }
        case let (.int64, .float(d)), let (.int128, .float(d)):
            if case let .decimal(precision, scale) = type {
                if let v = DecimalText.fromDouble(d, scale: scale) { appendDecimal(v, scale: scale, precision: precision, target: scale) } else { appendNull() }
            } else if d.isFinite, let i = Int64(exactly: d.rounded(.towardZero)) {
                appendInt64(i)
            } else {
                appendNull()
            }
        case let (.float64, .float(d)): appendDouble(d)
        case let (.float64, .int(i)): appendDouble(Double(i))
        case let (.float64, .decimal(v, scale)): appendDouble(Double(v) / pow10(scale))
        case let (.bytes, .string(s)): appendString(s)
        case let (.bytes, .json(s)): appendString(s)
        case let (.bytes, .bytes(b)): appendBytes(b)
        case (.bytes, _): appendString(value.description)
        default: appendNull()
        }
    }

    /// A decimal at scale `scale` stored at this type's scale; NULL when it has more digits than `precision`.
    private mutating func appendDecimal(_ v: Int128, scale: Int, precision: Int, target: Int) {
        guard let moved = ExactDecimal.rescale(v, from: scale, to: target), let fits = ExactDecimal.fitting(moved, precision: precision) else {
            appendNull()
            return
        }
        appendExact(fits)
    }

    /// Appends rows `range` of `column`, which must have this builder's storage.
    public mutating func appendRange(from column: Column, _ range: Range<Int>) {
        for i in range {
            if column.isNull(i) { appendNull(); continue }
            appendValid(from: column, i)
        }
    }

    /// Appends the rows of `column` whose `keep` flag is set.
    public mutating func appendSelected(from column: Column, keep: [Bool]) {
        let hasNulls = column.validity != nil
        switch column.buffer {
        case let .int64(v) where !hasNulls:
            for i in 0..<v.count where keep[i] { ints.append(v[i]); markValid() }
        case let .float64(v) where !hasNulls:
            for i in 0..<v.count where keep[i] { doubles.append(v[i]); markValid() }
        default:
            for i in 0..<column.count where keep[i] {
                if column.isNull(i) { appendNull() } else { appendValid(from: column, i) }
            }
        }
    }

    @inline(__always)
    public mutating func appendValid(from column: Column, _ i: Int) {
        switch column.buffer {
        case let .bool(v): appendBool(v[i])
        case let .int64(v): appendInt64(v[i])
        case let .int128(v): appendInt128(v[i])
        case let .float64(v): appendDouble(v[i])
        case let .bytes(b):
            b.data.withUnsafeBufferPointer { appendBytes(UnsafeBufferPointer(rebasing: $0[b.range(i)])) }
        }
    }

    /// Appends row `i` of `column` (NULL or value).
    @inline(__always)
    public mutating func append(from column: Column, _ i: Int) {
        if column.isNull(i) { appendNull() } else { appendValid(from: column, i) }
    }

    /// Produces the column; the builder is left empty and reusable.
    public mutating func finish() -> Column {
        let buffer: ColumnBuffer = switch type.storage {
        case .bool: .bool(bools)
        case .int64: .int64(ints)
        case .int128: .int128(wides)
        case .float64: .float64(doubles)
        case .bytes: .bytes(VariableWidthBuffer(offsets: offsets, data: data))
        }
        var finalValidity: Bitmap?
        if var words = validWords {
            while words.count < (count + 63) >> 6 { words.append(0) }
            finalValidity = Bitmap(words: words, count: count)
        }
        let column = Column(type: type, buffer: buffer, validity: finalValidity)
        self = ColumnBuilder(type: type)
        return column
    }
}
