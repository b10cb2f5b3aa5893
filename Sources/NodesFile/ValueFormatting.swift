import Columnar

/// Appends column values as text bytes without building a `String` per cell where it can.
enum ValueFormatting {
    /// Appends the decimal digits of `v`.
    @inline(__always)
    static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 { out.append(48); return }
        var magnitude = v.magnitude
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // room for 20 digits, reversed
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            while magnitude > 0 {
                raw[count] = UInt8(magnitude % 10) &+ 48
                magnitude /= 10
                count &+= 1
            }
            var i = count &- 1
            while i >= 0 { out.append(raw[i]); i &-= 1 }
        }
    }

    /// Appends the text of row `i` of `column` as csv.write and jsonl.write print it (NULL is the caller's business).
    @inline(__always)
    static func appendText(_ column: Column, _ i: Int, to out: inout [UInt8]) {
        switch column.type {
        case .int64: appendInt(column.int64Values[i], to: &out)
        case .float64:
            let d = column.float64Values[i]
            if d == d.rounded(), abs(d) < 1e15 { appendInt(Int64(d), to: &out) } else { out.append(contentsOf: formatDouble(d).utf8) }
        case .bool: out.append(contentsOf: column.boolValues[i] ? Array("true".utf8) : Array("false".utf8))
        case .string, .json, .bytes:
            let b = column.byteValues
            b.data.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[b.range(i)])) }
        default: out.append(contentsOf: column.value(at: i).description.utf8)
        }
    }
}
