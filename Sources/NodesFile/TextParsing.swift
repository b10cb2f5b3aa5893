import Columnar

/// Fast parsers from raw field bytes to typed values, shared by the CSV and JSONL readers.
enum TextParsing {
    @inline(__always)
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var s = 0, e = b.count
        while s < e, b[s] == 32 || b[s] == 9 { s &+= 1 }
        while e > s, b[e &- 1] == 32 || b[e &- 1] == 9 { e &-= 1 }
        if s == 0, e == b.count { return b }
        return UnsafeBufferPointer(rebasing: b[s..<e])
    }

    /// A decimal integer with optional sign; nil on any other character or overflow.
    @inline(__always)
    static func int64(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = b.count
        guard n > 0 else { return nil }
        var negative = false
        if b[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if b[0] == UInt8(ascii: "+") { i = 1 }
        guard i < n else { return nil }
        var value: UInt64 = 0
        if n - i <= 18 {
            while i < n {
                let d = b[i] &- 48
                guard d < 10 else { return nil }
                value = value &* 10 &+ UInt64(d)
                i &+= 1
            }
            return negative ? -Int64(value) : Int64(value)
        }
        while i < n {
            let d = b[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            value = a
            i &+= 1
        }
        if negative { return value <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- value) : nil }
        return value <= UInt64(Int64.max) ? Int64(value) : nil
    }

    private static let powersOfTen: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { r, _ in r * 10 } }

    /// A decimal number (`-12.5`, `1e-3`, `NaN`, `Infinity`). Simple decimals take an exact fast path
    /// (mantissa < 2^53 divided by an exact power of ten is correctly rounded); the rest use the standard library.
    @inline(__always)
    static func double(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = b.count
        guard n > 0 else { return nil }
        var i = 0
        var negative = false
        if b[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if b[0] == UInt8(ascii: "+") { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var seenPoint = false
        var simple = true
        while i < n {
            let c = b[i]
            let d = c &- 48
            if d < 10 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                digits &+= 1
                if seenPoint { fraction &+= 1 }
            } else if c == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                simple = false
                break
            }
            i &+= 1
        }
        if simple, digits > 0, digits <= 15, fraction <= 22 {
            let v = Double(mantissa) / powersOfTen[fraction]
            return negative ? -v : v
        }
        return slowDouble(b)
    }

    private static func slowDouble(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let text = String(decoding: b, as: UTF8.self)
        switch text.lowercased() {
        case "nan": return .nan
        case "infinity", "inf", "+infinity", "+inf": return .infinity
        case "-infinity", "-inf": return -.infinity
        default: break
        }
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".") || (first >= 48 && first <= 57) else { return nil }
        return Double(text)
    }

    static func bool(_ b: UnsafeBufferPointer<UInt8>) -> Bool? {
        switch b.count {
        case 1:
            switch b[0] | 0x20 {
            case UInt8(ascii: "t"), UInt8(ascii: "y"): return true
            case UInt8(ascii: "f"), UInt8(ascii: "n"): return false
            default: return b[0] == UInt8(ascii: "1") ? true : b[0] == UInt8(ascii: "0") ? false : nil
            }
        case 2...5:
            var lowered: UInt64 = 0
            for c in b { lowered = lowered << 8 | UInt64(c | 0x20) }
            switch lowered {
            case 0x74_72_75_65: return true          // true
            case 0x66_61_6C_73_65: return false      // false
            case 0x79_65_73: return true             // yes
            case 0x6E_6F: return false               // no
            case 0x6F_6E: return true                // on
            case 0x6F_66_66: return false            // off
            default: return nil
            }
        default: return nil
        }
    }

    /// A plain decimal string as an integer scaled by 10^scale; nil if not a number or too many digits.
    static func decimal(_ b: UnsafeBufferPointer<UInt8>, scale: Int) -> Int64? {
        var negative = false, i = 0
        if b.count > 0, b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") { negative = b[0] == UInt8(ascii: "-"); i = 1 }
        var value: Int64 = 0, fractionDigits = -1, digits = 0
        var roundUp = false
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "."), fractionDigits < 0 { fractionDigits = 0; i += 1; continue }
            let d = c &- 48
            guard d < 10 else { return nil }
            digits += 1
            if fractionDigits >= 0 {
                if fractionDigits >= scale {
                    if fractionDigits == scale { roundUp = d >= 5 }
                    fractionDigits += 1
                    i += 1
                    continue
                }
                fractionDigits += 1
            }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = a
            i += 1
        }
        guard digits > 0 else { return nil }
        for _ in max(0, min(fractionDigits, scale))..<scale {
            let (m, o) = value.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            value = m
        }
        if roundUp { value += 1 }
        return negative ? -value : value
    }
}
