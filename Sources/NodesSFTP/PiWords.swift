/// The hexadecimal digits of π's fraction as 32-bit words, most significant first (`0x243F6A88`, …): Blowfish
/// starts its state from them. Computed once with Machin's formula, π = 16·atan(1/5) − 4·atan(1/239), in
/// fixed-point arithmetic on 32-bit words, rather than kept as a table of a thousand constants.
enum PiWords {
    /// Enough for Blowfish: 18 words of its P-array, then its four S-boxes of 256.
    static let blowfish: [UInt32] = compute(count: 18 + 4 * 256)

    /// The first `count` words of π's fraction.
    static func compute(count: Int) -> [UInt32] {
        // Word 0 holds the integer part; four words past `count` absorb the rounding of each division.
        let size = count + 5
        var pi = arctangentOfInverse(5, size: size)
        multiply(&pi, by: 16)
        var small = arctangentOfInverse(239, size: size)
        multiply(&small, by: 4)
        subtract(&pi, small)
        return Array(pi[1...count])
    }

    /// atan(1/x) = 1/x − 1/(3x³) + 1/(5x⁵) − …
    private static func arctangentOfInverse(_ x: UInt32, size: Int) -> [UInt32] {
        var sum = [UInt32](repeating: 0, count: size)
        var power = [UInt32](repeating: 0, count: size)
        power[0] = 1
        divide(&power, by: x)
        var first = 0 // the first non-zero word of `power`: the words before it stay zero
        var k: UInt32 = 0
        while first < size {
            var term = power
            divide(&term, by: 2 * k + 1, from: first)
            if k % 2 == 0 { add(&sum, term) } else { subtract(&sum, term) }
            divide(&power, by: x * x, from: first)
            while first < size && power[first] == 0 { first += 1 }
            k += 1
        }
        return sum
    }

    private static func divide(_ words: inout [UInt32], by divisor: UInt32, from start: Int = 0) {
        var remainder: UInt64 = 0
        let d = UInt64(divisor)
        for i in start..<words.count {
            let current = remainder << 32 | UInt64(words[i])
            words[i] = UInt32(current / d)
            remainder = current % d
        }
    }

    private static func multiply(_ words: inout [UInt32], by factor: UInt32) {
        var carry: UInt64 = 0
        for i in words.indices.reversed() {
            let current = UInt64(words[i]) * UInt64(factor) + carry
            words[i] = UInt32(truncatingIfNeeded: current)
            carry = current >> 32
        }
    }

    private static func add(_ words: inout [UInt32], _ other: [UInt32]) {
        var carry: UInt64 = 0
        for i in words.indices.reversed() {
            let current = UInt64(words[i]) + UInt64(other[i]) + carry
            words[i] = UInt32(truncatingIfNeeded: current)
            carry = current >> 32
        }
    }

    private static func subtract(_ words: inout [UInt32], _ other: [UInt32]) {
        var borrow: Int64 = 0
        for i in words.indices.reversed() {
            var current = Int64(words[i]) - Int64(other[i]) - borrow
            borrow = current < 0 ? 1 : 0
            if current < 0 { current += 1 << 32 }
            words[i] = UInt32(current)
        }
    }
}
