import Columnar

/// Appends column values as text bytes without building a `String` per cell where it can.
enum ValueFormatting {
    /// Appends the decimal digits of `v`.
    @inline(__always)
    static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v >= 0, v < 10 { out.append(UInt8(truncatingIfNeeded: v) &+ 48); return }
        var magnitude = v.magnitude
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // room for 20 digits, reversed
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            while magnitude > 0 {
                raw[count] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
                count &+= 1
            }
            var i = count &- 1
            while i >= 0 { out.append(raw[i]); i &-= 1 }
        }
    }

    /// Appends a double: integral values without a fraction, others in shortest round-trip form.
    @inline(__always)
    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        if d == d.rounded(), abs(d) < 1e15 { appendInt(Int64(d), to: &out); return }
        var text = formatDouble(d)
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// Appends the text of a non-NULL, non-string cell (numbers, booleans, dates, timestamps, decimals).
    @inline(__always)
    static func appendScalar(_ c: ColumnCursor, _ i: Int, to out: inout [UInt8]) {
        switch c.type {
        case .int64: appendInt(c.ints![i], to: &out)
        case .float64: appendDouble(c.doubles![i], to: &out)
        case .bool: out.append(contentsOf: c.bools![i] ? trueBytes : falseBytes)
        case .date: CivilTime.appendDate(days: c.ints![i], to: &out)
        case .timestamp: CivilTime.appendTimestamp(micros: c.ints![i], to: &out)
        case let .decimal(_, scale): out.append(contentsOf: formatDecimal(c.ints![i], scale: scale).utf8)
        case .string, .json, .bytes: out.append(contentsOf: c.bytes(i))
        }
    }

    static let trueBytes: [UInt8] = Array("true".utf8)
    static let falseBytes: [UInt8] = Array("false".utf8)
}
