import Columnar

/// Writes column values as text bytes into a `TextBuffer`, without building a `String` per cell.
enum ValueFormatting {
    /// The most bytes one non-string cell can take (numbers, dates, timestamps).
    static let maxScalarLength = 48

    /// Writes the decimal digits of `v` at `p`; returns the length.
    @inline(__always)
    static func writeInt(_ v: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = v.magnitude
        var n = 0
        if v < 0 { p[0] = UInt8(ascii: "-"); n = 1 }
        var digits = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; digits &+= 1 }
        var i = n &+ digits &- 1
        repeat {
            p[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
            magnitude /= 10
            i &-= 1
        } while magnitude > 0
        return n &+ digits
    }

    private static let scales: [Double] = [1, 10, 100, 1000, 10000]

    /// Writes a double in its shortest round-trip form at `p`; returns the length.
    ///
    /// Values with up to four decimals take an exact fast path: if `m / 10^k == d` for the integer
    /// `m = round(d × 10^k)` below 2^53, then "m with k decimals" (trailing zeros trimmed) reads back as `d`,
    /// and no shorter decimal does (doubles there are far denser than 10^-k), so it is the shortest form.
    @inline(__always)
    static func writeDouble(_ d: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
        if d.isFinite, abs(d) < 1e11 {
            for k in 0...4 {
                let scale = scales[k]
                let m = (d * scale).rounded()
                guard m / scale == d else { continue }
                if k == 0 { return writeInt(Int64(m), to: p) }
                let scaled = Int64(m)
                let magnitude = scaled.magnitude
                let divisor = UInt64(scale)
                var n = 0
                if scaled < 0 || (d == 0 && d.sign == .minus) { p[0] = UInt8(ascii: "-"); n = 1 }
                n &+= writeInt(Int64(magnitude / divisor), to: p + n)
                var fraction = magnitude % divisor
                var width = k
                while fraction % 10 == 0, width > 0 { fraction /= 10; width -= 1 }
                if width > 0 {
                    p[n] = UInt8(ascii: ".")
                    var i = n &+ width
                    var rest = fraction
                    while i > n {
                        p[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
                        rest /= 10
                        i &-= 1
                    }
                    n &+= width &+ 1
                }
                return n
            }
        }
        let text = Array(formatDouble(d).utf8.prefix(maxScalarLength))
        for (i, b) in text.enumerated() { p[i] = b }
        return text.count
    }

    /// Appends the text of a non-NULL cell that is not a string (numbers, booleans, dates, timestamps, decimals).
    @inline(__always)
    static func appendScalar(_ c: ColumnCursor, _ i: Int, to out: inout TextBuffer) {
        switch c.type {
        case .int64: out.write(maximum: maxScalarLength) { writeInt(c.ints![i], to: $0) }
        case .float64: out.write(maximum: maxScalarLength) { writeDouble(c.doubles![i], to: $0) }
        case .bool:
            let value = c.bools![i]
            out.write(maximum: 5) { p in
                let word: StaticString = value ? "true" : "false"
                p.update(from: word.utf8Start, count: word.utf8CodeUnitCount)
                return word.utf8CodeUnitCount
            }
        case .date: out.write(maximum: CivilTime.maxTimestampLength) { CivilTime.writeDate(days: c.ints![i], to: $0) }
        case .timestamp: out.write(maximum: CivilTime.maxTimestampLength) { CivilTime.writeTimestamp(micros: c.ints![i], to: $0) }
        case let .decimal(_, scale): out.append(contentsOf: Array(formatDecimal(c.ints![i], scale: scale).utf8))
        case .string, .json, .bytes:
            let bytes = c.bytes(i)
            out.reserve(bytes.count)
            out.append(bytes)
        }
    }
}
