/// Fixed-point decimal conversions shared by builders, casts and readers.
public enum DecimalText {
    /// Parses a plain decimal string (`-12.345`, no exponent) into an integer scaled by 10^scale, rounding half away
    /// from zero; nil if it is not a number or does not fit in 38 digits.
    public static func parse(_ s: String, scale: Int) -> Int128? {
        var s = s
        return s.withUTF8 { parse($0, scale: scale) }
    }

    /// `parse` over UTF-8 bytes.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, scale: Int) -> Int128? {
        guard scale <= ExactDecimal.maxPrecision else { return nil }
        var negative = false
        var integer: Int128 = 0
        var fraction: Int128 = 0
        var fractionDigits = 0
        var roundUp = false
        var seenPoint = false
        var digits = 0
        for (i, c) in bytes.enumerated() {
            switch c {
            case UInt8(ascii: "-") where i == 0: negative = true
            case UInt8(ascii: "+") where i == 0: break
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            case 48...57:
                digits += 1
                let d = Int128(c - 48)
                if !seenPoint {
                    // Leading zeros cost nothing; past 38 integer digits it cannot fit (checked before it could
                    // pass 128 bits: any length of digits is refused, never a trap).
                    guard integer < ExactDecimal.limit / 10 else { return nil }
                    integer = integer * 10 + d
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
        guard let whole = ExactDecimal.scaled(integer, by: scale), whole < ExactDecimal.limit else { return nil }
        let v = whole + fractionScaled + (roundUp ? 1 : 0)
        guard v < ExactDecimal.limit else { return nil }
        return negative ? -v : v
    }

    /// A double's shortest decimal text (`1.19`, `1e-05`, `1.5e+20`) as a scaled integer and the scale that
    /// holds every written digit (0 for whole numbers); nil past 38 digits or for NaN and infinities.
    public static func shortest(_ d: Double) -> (value: Int128, scale: Int)? {
        guard d.isFinite else { return nil }
        let text = "\(d)"
        let parts = text.lowercased().split(separator: "e", maxSplits: 1)
        let mantissa = parts[0], exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let fractionDigits = mantissa.firstIndex(of: ".").map { mantissa.distance(from: $0, to: mantissa.endIndex) - 1 } ?? 0
        var digits = mantissa.filter { $0 != "." && $0 != "-" }
        var scale = fractionDigits - exponent
        // Trailing zeros after the point ("20.0") are not written digits.
        while scale > 0, digits.count > 1, digits.hasSuffix("0") { digits.removeLast(); scale -= 1 }
        guard var value = Int128(digits) else { return nil }
        if scale < 0 {
            guard let scaled = ExactDecimal.scaled(value, by: -scale) else { return nil }
            value = scaled
            scale = 0
        }
        guard scale <= ExactDecimal.maxPrecision, value < ExactDecimal.limit else { return nil }
        return (mantissa.hasPrefix("-") ? -value : value, scale)
    }

    /// A double as a scaled integer, going through its shortest decimal text (as PostgreSQL's float8 → numeric),
    /// so 1.005 becomes 1.01 at scale 2, not 1.00.
    public static func fromDouble(_ d: Double, scale: Int) -> Int128? {
        guard d.isFinite else { return nil }
        let text = "\(d)"
        if text.contains("e") {
            let scaled = (d * pow10(scale)).rounded(.toNearestOrAwayFromZero)
            return abs(scaled) < 1e38 ? Int128(scaled) : nil
        }
        return parse(text, scale: scale)
    }
}
