import CSQLite

/// `SLUICE_DECIMAL`: a collation that orders decimal texts by their value (`9.5` before `10`, `-2` before `-1.5`),
/// for decimals of more than 15 digits, which Sluice keeps as text because SQLite's numbers hold only 15. Texts
/// that are not decimals sort after every decimal, byte by byte.
enum DecimalCollation {
    static let name = "SLUICE_DECIMAL"

    /// The parts of a decimal text: sign, integer digits without leading zeros, fraction digits without trailing zeros.
    struct Parts {
        var negative: Bool
        var integer: UnsafeBufferPointer<UInt8>
        var fraction: UnsafeBufferPointer<UInt8>

        init?(_ text: UnsafeBufferPointer<UInt8>) {
            var start = 0, end = text.count
            while start < end, text[start] == 32 { start += 1 }
            while end > start, text[end - 1] == 32 { end -= 1 }
            negative = start < end && text[start] == UInt8(ascii: "-")
            if start < end, text[start] == UInt8(ascii: "-") || text[start] == UInt8(ascii: "+") { start += 1 }
            var dot = start
            while dot < end, text[dot] != UInt8(ascii: ".") { dot += 1 }
            guard dot > start || dot + 1 < end else { return nil }
            for i in start..<end where i != dot && !(48...57).contains(text[i]) { return nil }
            var intStart = start
            while intStart < dot, text[intStart] == 48 { intStart += 1 }
            var fracEnd = end
            while fracEnd > dot + 1, text[fracEnd - 1] == 48 { fracEnd -= 1 }
            integer = UnsafeBufferPointer(rebasing: text[intStart..<dot])
            fraction = dot < end ? UnsafeBufferPointer(rebasing: text[(dot + 1)..<fracEnd]) : UnsafeBufferPointer(rebasing: text[end..<end])
            if integer.isEmpty, fraction.isEmpty { negative = false }
        }
    }

    /// -1, 0 or 1 as `a` is below, equal to or above `b`.
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        switch (Parts(a), Parts(b)) {
        case let (x?, y?):
            if x.negative != y.negative { return x.negative ? -1 : 1 }
            let magnitude = compareMagnitude(x, y)
            return x.negative ? -magnitude : magnitude
        case (nil, nil): return bytes(a, b)
        case (nil, _): return 1
        case (_, nil): return -1
        }
    }

    private static func compareMagnitude(_ x: Parts, _ y: Parts) -> Int32 {
        if x.integer.count != y.integer.count { return x.integer.count < y.integer.count ? -1 : 1 }
        let integers = bytes(x.integer, y.integer)
        return integers != 0 ? integers : bytes(x.fraction, y.fraction)
    }

    private static func bytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        for i in 0..<min(a.count, b.count) where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

extension SQLiteDatabase {
    /// Makes the `SLUICE_DECIMAL` collation available on this connection.
    package func registerDecimalCollation() {
        sqlite3_create_collation_v2(handle, DecimalCollation.name, SQLITE_UTF8, nil, { _, lengthA, a, lengthB, b in
            DecimalCollation.compare(UnsafeBufferPointer(start: a?.assumingMemoryBound(to: UInt8.self), count: Int(lengthA)),
                                     UnsafeBufferPointer(start: b?.assumingMemoryBound(to: UInt8.self), count: Int(lengthB)))
        }, nil)
    }
}
