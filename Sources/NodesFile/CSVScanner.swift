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
}

/// An RFC 4180 record scanner over raw bytes: delimiter, quote, CRLF or LF, quoted fields with
/// embedded delimiters, doubled quotes and newlines. It finds field spans only; decoding is separate.
struct CSVScanner {
    let delimiter: UInt8
    let quote: UInt8

    /// Scans one record starting at `start`; fills `fields` with its spans.
    /// `atEOF` says no more bytes follow, so a record without a final newline is complete.
    @inline(__always)
    func scan(_ b: UnsafeBufferPointer<UInt8>, from start: Int, atEOF: Bool, fields: inout [FieldSpan]) -> ScanOutcome {
        fields.removeAll(keepingCapacity: true)
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
                    if j >= n { return atEOF ? malformedToEnd(b, from: start, newlines: newlines, reason: "unterminated quoted field: missing closing quote") : .incomplete }
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
            var j = i
            while j < n {
                let c = b[j]
                if c == delimiter || c == lf || c == cr { break }
                if c == quote { return skipLine(b, from: j, atEOF: atEOF, newlines: newlines, reason: "a quote inside an unquoted field") }
                j &+= 1
            }
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

    private func malformedToEnd(_ b: UnsafeBufferPointer<UInt8>, from: Int, newlines: Int, reason: String) -> ScanOutcome {
        .malformed(next: b.count, newlines: newlines, reason: reason)
    }
}
