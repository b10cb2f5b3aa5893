/// Calendar arithmetic and ISO-8601 parsing/formatting on raw bytes (proleptic Gregorian, UTC).
///
/// Dates are days since 1970-01-01; timestamps are microseconds since the epoch in UTC.
/// Parsing works on byte buffers so readers need not build a `String` per cell.
public enum CivilTime {
    public static let microsPerSecond: Int64 = 1_000_000
    public static let microsPerDay: Int64 = 86_400_000_000

    /// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm; valid for any year).
    @inline(__always)
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number.
    public static func civil(days z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public static func isLeapYear(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses `YYYY-MM-DD` exactly (no time part).
    public static func parseDate(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2),
              (1...12).contains(m), d >= 1, d <= daysInMonth(year: y, month: m) else { return nil }
        return days(year: y, month: m, day: d)
    }

    /// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.f…]]][Z|±HH[:MM]|±HHMM]`; no offset means UTC.
    /// A bare date is midnight UTC.
    public static func parseTimestamp(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = digits(b, 0, 4), let mo = digits(b, 5, 2), let d = digits(b, 8, 2),
              (1...12).contains(mo), d >= 1, d <= daysInMonth(year: y, month: mo) else { return nil }
        var micros = days(year: y, month: mo, day: d) * microsPerDay
        if b.count == 10 { return micros }
        guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), b.count >= 16, b[13] == UInt8(ascii: ":"),
              let h = digits(b, 11, 2), let mi = digits(b, 14, 2), h < 24, mi < 60 else { return nil }
        var i = 16
        var seconds: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            guard i + 3 <= b.count, let s = digits(b, i + 1, 2), s < 61 else { return nil }
            seconds = s
            i += 3
            if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
                i += 1
                var fraction: Int64 = 0
                var scale: Int64 = 100_000
                let start = i
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    fraction += Int64(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
                micros += fraction
            }
        }
        micros += (h * 3600 + mi * 60 + seconds) * microsPerSecond
        if i == b.count { return micros }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count ? micros : nil }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
        let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
        i += 1
        guard i + 2 <= b.count, let oh = digits(b, i, 2) else { return nil }
        i += 2
        var om: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ":") { i += 1 }
        if i < b.count {
            guard i + 2 == b.count, let m = digits(b, i, 2) else { return nil }
            om = m
        }
        guard oh <= 15, om < 60 else { return nil }
        return micros - sign * (oh * 3600 + om * 60) * microsPerSecond
    }

    public static func parseTimestamp(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parseTimestamp($0) }
    }

    public static func parseDate(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parseDate($0) }
    }

    @inline(__always)
    static func digits(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for i in start..<(start + count) {
            let c = b[i] &- 48
            guard c < 10 else { return nil }
            value = value * 10 + Int64(c)
        }
        return value
    }

    public static func formatDate(days: Int64) -> String {
        let (y, m, d) = civil(days: days)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, fraction trimmed of trailing zeros.
    public static func formatTimestamp(micros: Int64) -> String {
        var day = micros / microsPerDay
        var rest = micros % microsPerDay
        if rest < 0 { rest += microsPerDay; day -= 1 }
        let seconds = rest / microsPerSecond
        var fraction = rest % microsPerSecond
        var text = formatDate(days: day) + "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        if fraction != 0 {
            var width = 6
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            text += "." + pad(fraction, width)
        }
        return text + "Z"
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v.magnitude)
        return (v < 0 ? "-" : "") + (s.count >= width ? s : String(repeating: "0", count: width - s.count) + s)
    }
}

extension CivilTime {
    /// The most bytes `writeTimestamp` writes.
    public static let maxTimestampLength = 32

    @inline(__always)
    static func writeDigits(_ v: Int64, width: Int, to p: UnsafeMutablePointer<UInt8>) {
        var rest = v
        var i = width &- 1
        while i >= 0 {
            p[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
            rest /= 10
            i &-= 1
        }
    }

    /// Writes `YYYY-MM-DD` at `p` and returns the length (years outside 0…9999 use `formatDate`).
    @inline(__always)
    public static func writeDate(days: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        let (y, m, d) = civil(days: days)
        guard (0...9999).contains(y) else {
            let text = Array(formatDate(days: days).utf8.prefix(maxTimestampLength))
            for (i, b) in text.enumerated() { p[i] = b }
            return text.count
        }
        writeDigits(y, width: 4, to: p)
        p[4] = 45
        writeDigits(m, width: 2, to: p + 5)
        p[7] = 45
        writeDigits(d, width: 2, to: p + 8)
        return 10
    }

    /// Writes the same text as `formatTimestamp` at `p` and returns the length (at most `maxTimestampLength`).
    @inline(__always)
    public static func writeTimestamp(micros: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var day = micros / microsPerDay
        var rest = micros % microsPerDay
        if rest < 0 { rest += microsPerDay; day -= 1 }
        var n = writeDate(days: day, to: p) // 10 bytes, more for years outside 0...9999
        let seconds = rest / microsPerSecond
        p[n] = 84 // T
        writeDigits(seconds / 3600, width: 2, to: p + n + 1)
        p[n + 3] = 58
        writeDigits(seconds / 60 % 60, width: 2, to: p + n + 4)
        p[n + 6] = 58
        writeDigits(seconds % 60, width: 2, to: p + n + 7)
        n += 9
        var fraction = rest % microsPerSecond
        if fraction != 0 {
            var width = 6
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            p[n] = 46
            writeDigits(fraction, width: width, to: p + n + 1)
            n += 1 + width
        }
        p[n] = 90 // Z
        return n + 1
    }

    /// Appends `YYYY-MM-DD` to a byte array.
    public static func appendDate(days: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxTimestampLength) { p in
            let n = writeDate(days: days, to: p.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[0..<n]))
        }
    }

    /// Appends an ISO-8601 UTC timestamp to a byte array.
    public static func appendTimestamp(micros: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxTimestampLength) { p in
            let n = writeTimestamp(micros: micros, to: p.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[0..<n]))
        }
    }
}
