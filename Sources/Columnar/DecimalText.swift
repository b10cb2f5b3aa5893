/// Fixed-point decimal conversions shared by builders, casts and readers.
public enum DecimalText {
    /// Parses a plain decimal string (`-12.345`, also `1e3`-free) into an integer scaled by 10^scale,
    /// rounding half away from zero; nil if it is not a number or does not fit in Int64.
    public static func parse(_ s: String, scale: Int) -> Int64? {
        var negative = false
        var integer: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var roundUp = false
        var seenPoint = false
        var digits = 0
        for (i, c) in s.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "-") where i == 0: negative = true
            case UInt8(ascii: "+") where i == 0: break
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            case 48...57:
                digits += 1
                let d = Int64(c - 48)
                if !seenPoint {
                    let (m, o1) = integer.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(d)
                    guard !o1, !o2 else { return nil }
                    integer = a
                } else if fractionDigits < scale {
                    fraction = fraction * 10 + d
                    fractionDigits += 1
                } else if fractionDigits == scale {
                    roundUp = d >= 5
                    fractionDigits += 1
                }
            default: return nil
            }
        }
        guard digits > 0 else { return nil }
        var fractionScaled = fraction
        for _ in min(fractionDigits, scale)..<scale { fractionScaled *= 10 }
        let (m, o1) = integer.multipliedReportingOverflow(by: Int64(pow10(scale)))
        let (v, o2) = m.addingReportingOverflow(fractionScaled + (roundUp ? 1 : 0))
        guard !o1, !o2 else { return nil }
        return negative ? -v : v
    }

    /// A double as a scaled integer, going through its shortest decimal text (as PostgreSQL's float8 → numeric),
    /// so 1.005 becomes 1.01 at scale 2, not 1.00.
    public static func fromDouble(_ d: Double, scale: Int) -> Int64? {
        guard d.isFinite else { return nil }
        let text = "\(d)"
        if text.contains("e") {
            let scaled = (d * pow10(scale)).rounded(.toNearestOrAwayFromZero)
            return abs(scaled) < 9.2e18 ? Int64(scaled) : nil
        }
        return parse(text, scale: scale)
    }
}
