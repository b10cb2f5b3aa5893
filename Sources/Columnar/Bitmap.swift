/// A packed bit vector used as a validity bitmap: bit `i` set means row `i` holds a value.
public struct Bitmap: Sendable, Equatable {
    public private(set) var words: [UInt64]
    public let count: Int

    public init(repeating value: Bool, count: Int) {
        self.count = count
        let wordCount = (count + 63) >> 6
        words = [UInt64](repeating: value ? ~0 : 0, count: wordCount)
        if value { clearTail() }
    }

    public init(words: [UInt64], count: Int) {
        self.words = words
        self.count = count
        clearTail()
    }

    /// Builds a bitmap from a Boolean per row.
    public init(_ bits: some Collection<Bool>) {
        var bitmap = Bitmap(repeating: false, count: bits.count)
        for (i, bit) in bits.enumerated() where bit { bitmap.set(i) }
        self = bitmap
    }

    @inline(__always)
    public subscript(index: Int) -> Bool {
        words[index &>> 6] & (1 &<< UInt64(index & 63)) != 0
    }

    @inline(__always)
    public mutating func set(_ index: Int) { words[index &>> 6] |= 1 &<< UInt64(index & 63) }

    @inline(__always)
    public mutating func clear(_ index: Int) { words[index &>> 6] &= ~(1 &<< UInt64(index & 63)) }

    /// Number of set bits.
    public var setCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public var allSet: Bool { setCount == count }

    /// Bitwise AND of two bitmaps of the same length.
    public static func & (lhs: Bitmap, rhs: Bitmap) -> Bitmap {
        precondition(lhs.count == rhs.count, "bitmap lengths differ")
        var result = lhs
        for i in result.words.indices { result.words[i] &= rhs.words[i] }
        return result
    }

    /// AND of two optional validity bitmaps, where `nil` means all valid.
    public static func intersect(_ lhs: Bitmap?, _ rhs: Bitmap?) -> Bitmap? {
        switch (lhs, rhs) {
        case (nil, nil): nil
        case let (l?, nil): l
        case let (nil, r?): r
        case let (l?, r?): l & r
        }
    }

    private mutating func clearTail() {
        let tail = count & 63
        if tail != 0, !words.isEmpty { words[words.count - 1] &= (1 << UInt64(tail)) - 1 }
    }
}
