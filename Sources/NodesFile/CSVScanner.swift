/// Where one field lies in the read buffer. `quoted` fields may contain doubled quotes to unescape.
struct FieldSpan {
    var start: Int
    var end: Int
    var quoted: Bool
    var hasEscapedQuote: Bool
}

/// The outcome of scanning for one record in a buffer.
enum ScanOutcome {
    /// A complete record ends before `next`; `newlines` were consumed (including quoted ones).
    case record(next: Int, newlines: Int)
    /// The buffer ends inside the record: read more, or at end of input it is malformed.
    case incomplete
    /// The record is malformed; skip to `next` (just past its line end) and reject it.
    case malformed(next: Int, newlines: Int, reason: String)
    /// At the end of the bytes, a quoted field is still open: it runs to `next` (the end).
    case unterminated(next: Int, newlines: Int)
}

/// Fixed storage for the field spans of one record, reused for every record (no array appends).
///
/// Holds up to `capacity` spans; a record with more fields is still counted (and then rejected as ragged).
final class FieldSpans {
    let capacity: Int
    let base: UnsafeMutablePointer<FieldSpan>
    var count = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    func append(_ span: FieldSpan) {
        if count < capacity { base[count] = span }
        count &+= 1
    }

    @inline(__always)
    subscript(i: Int) -> FieldSpan { base[i] }

    /// The stored spans as an array (for the header and sampling, not the hot path).
    var array: [FieldSpan] { (0..<min(count, capacity)).map { base[$0] } }
}

/// An RFC 4180 record scanner over raw bytes: delimiter, quote, CRLF or LF, quoted fields with
/// embedded delimiters, doubled quotes and newlines. It finds field spans only; decoding is separate.
struct CSVScanner {
    let delimiter: UInt8
    let quote: UInt8

    init(delimiter: UInt8, quote: UInt8) {
        self.delimiter = delimiter
        self.quote = quote
        delimiterWord = UInt64(delimiter) &* Self.ones
        quoteWord = UInt64(quote) &* Self.ones
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    private static let lfWord: UInt64 = 10 &* ones
    private static let crWord: UInt64 = 13 &* ones
    private let delimiterWord: UInt64
    private let quoteWord: UInt64

    /// High bit set in each byte of `w` equal to the byte in `pattern` (exact for the lowest match).
    @inline(__always)
    private static func matches(_ w: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = w ^ pattern
        return (x &- ones) & ~x & highs
    }

    /// The position of the first delimiter, quote, CR or LF at or after `from`, 8 bytes at a time.
    @inline(__always)
    private func firstSpecial(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var j = from
        let n = b.count
        let raw = UnsafeRawPointer(b.baseAddress!)
        while j &+ 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            let m = Self.matches(w, delimiterWord) | Self.matches(w, quoteWord) | Self.matches(w, Self.lfWord) | Self.matches(w, Self.crWord)
            if m != 0 { return j &+ (m.trailingZeroBitCount &>> 3) }
            j &+= 8
        }
        while j < n {
            let c = b[j]
            if c == delimiter || c == quote || c == 10 || c == 13 { return j }
            j &+= 1
        }
        return n
    }

    /// Scans one record starting at `start`; fills `fields` with its spans.
    /// `atEOF` says no more bytes follow, so a record without a final newline is complete.
    @inline(__always)
    func scan(_ b: UnsafeBufferPointer<UInt8>, from start: Int, atEOF: Bool, fields: FieldSpans) -> ScanOutcome {
        fields.count = 0
        let n = b.count
        var i = start
        var newlines = 0
        let cr: UInt8 = 13, lf: UInt8 = 10
        while true {
            // Start of a field.
            if i < n, b[i] == quote {
                var j = i &+ 1
                var escaped = false
                while true {
                    // Find the next quote; count newlines on the way.
                    while j < n, b[j] != quote {
                        if b[j] == lf { newlines &+= 1 }
                        j &+= 1
                    }
                    if j >= n { return atEOF ? .unterminated(next: n, newlines: newlines) : .incomplete }
                    if j &+ 1 < n, b[j &+ 1] == quote { escaped = true; j &+= 2; continue }
                    if j &+ 1 >= n, !atEOF { return .incomplete }
                    break
                }
                fields.append(FieldSpan(start: i &+ 1, end: j, quoted: true, hasEscapedQuote: escaped))
                i = j &+ 1
                if i >= n { return .record(next: n, newlines: newlines) }
                let c = b[i]
                if c == delimiter { i &+= 1; continue }
                if c == lf { return .record(next: i &+ 1, newlines: newlines &+ 1) }
                if c == cr {
                    if i &+ 1 < n, b[i &+ 1] == lf { return .record(next: i &+ 2, newlines: newlines &+ 1) }
                    if i &+ 1 >= n, !atEOF { return .incomplete }
                    return .record(next: i &+ 1, newlines: newlines &+ 1)
                }
                return skipLine(b, from: i, atEOF: atEOF, newlines: newlines, reason: "unexpected character after a closing quote")
            }
            // Unquoted field: runs to the delimiter or the line end.
            let j = firstSpecial(b, from: i)
            if j < n, b[j] == quote { return skipLine(b, from: j, atEOF: atEOF, newlines: newlines, reason: "a quote inside an unquoted field") }
            if j >= n {
                if !atEOF { return .incomplete }
                fields.append(FieldSpan(start: i, end: j, quoted: false, hasEscapedQuote: false))
                return .record(next: n, newlines: newlines)
            }
            fields.append(FieldSpan(start: i, end: j, quoted: false, hasEscapedQuote: false))
            let c = b[j]
            if c == delimiter { i = j &+ 1; continue }
            if c == lf { return .record(next: j &+ 1, newlines: newlines &+ 1) }
            // CR: CRLF or a lone CR line end.
            if j &+ 1 < n, b[j &+ 1] == lf { return .record(next: j &+ 2, newlines: newlines &+ 1) }
            if j &+ 1 >= n, !atEOF { return .incomplete }
            return .record(next: j &+ 1, newlines: newlines &+ 1)
        }
    }

    /// Skips to the end of the physical line after a malformed spot.
    private func skipLine(_ b: UnsafeBufferPointer<UInt8>, from: Int, atEOF: Bool, newlines: Int, reason: String) -> ScanOutcome {
        var j = from
        while j < b.count, b[j] != 10 { j &+= 1 }
        if j >= b.count { return atEOF ? .malformed(next: b.count, newlines: newlines, reason: reason) : .incomplete }
        return .malformed(next: j &+ 1, newlines: newlines &+ 1, reason: reason)
    }

}
