import Foundation

/// A run of whole CSV records cut from a file, to be decoded independently of its neighbours.
struct CSVChunk: Sendable {
    let index: Int
    let bytes: [UInt8]
    /// True when the chunk ends at the end of the file.
    let isLast: Bool
}

/// Cuts a file into chunks that end on record boundaries, so chunks can be decoded in parallel.
///
/// Every chunk starts at a record boundary, so the quote state at its start is "outside quotes";
/// the cut is the last line end with an even number of quote characters before it in the chunk
/// (an escaped `""` counts twice and so keeps the parity). A record longer than the chunk size
/// grows the chunk until it fits.
final class CSVChunker {
    private let input: FileInput
    private let quote: UInt8
    private var position: Int
    private var index = 0

    init(input: FileInput, from position: Int, quote: UInt8) {
        self.input = input
        self.position = position
        self.quote = quote
    }

    /// The next chunk, or nil at the end of the file. Reads more of the file as needed.
    func next() async throws -> CSVChunk? {
        while true {
            if position >= input.filled {
                if input.atEOF { return nil }
                try await input.refill(consumed: position)
                position = 0
                continue
            }
            let cut: Int? = input.buffer.withUnsafeBufferPointer { b in
                lastRecordEnd(UnsafeBufferPointer(rebasing: b[position..<input.filled]))
            }
            if let cut {
                let bytes = Array(input.buffer[position..<(position + cut)])
                position += cut
                defer { index += 1 }
                return CSVChunk(index: index, bytes: bytes, isLast: input.atEOF && position >= input.filled)
            }
            if input.atEOF {
                let bytes = Array(input.buffer[position..<input.filled])
                position = input.filled
                defer { index += 1 }
                return CSVChunk(index: index, bytes: bytes, isLast: true)
            }
            // No complete record in the buffered bytes: read more (the buffer grows if it is full).
            try await input.refill(consumed: position)
            position = 0
        }
    }

    /// The length of the longest prefix that ends just after a line end outside quotes; nil if none.
    private func lastRecordEnd(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = b.baseAddress, b.count > 0 else { return nil }
        var quotes: [Int] = []
        var p = 0
        while p < b.count, let hit = memchr(base + p, Int32(quote), b.count - p) {
            let q = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            quotes.append(q)
            p = q + 1
        }
        // Segments between quotes; segment k (after k quotes) is outside quotes when k is even.
        var end = b.count
        var k = quotes.count
        while k >= 0 {
            let start = k == 0 ? 0 : quotes[k - 1] + 1
            if k % 2 == 0, end > start {
                // Records are short next to a chunk, so the last line end is close to `end`.
                var i = end - 1
                while i >= start, base[i] != 10 { i -= 1 }
                if i >= start { return i + 1 }
            }
            if k == 0 { break }
            end = quotes[k - 1]
            k -= 1
        }
        return nil
    }
}
