/// Writes numbers as text straight into memory, without building a `String` (writers' hot loops).
public enum NumberText {
    /// The most bytes `writeInt` or `writeDouble` writes.
    public static let maxLength = 48

    /// Writes the decimal digits of `v` at `p`; returns the length.
    @inline(__always)
    public static func writeInt(_ v: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
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
    public static func writeDouble(_ d: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
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
        let text = Array(formatDouble(d).utf8.prefix(maxLength))
        for (i, b) in text.enumerated() { p[i] = b }
        return text.count
    }
}
