/// Why an IMAP response could not be read; the message quotes the start of the offending line.
public struct IMAPProtocolError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    init(_ message: String, line: ArraySlice<UInt8>) {
        let shown = String(decoding: line.prefix(160), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "⏎")
        self.message = "\(message) in the server's response: \(shown)"
    }
}

/// Splits the server's byte stream into complete responses and parses them (RFC 9051 §4, §7, §9).
///
/// A response is a line ending in CRLF; a line that ends with a literal announcement `{N}` continues after N
/// bytes of literal data, so framing reads the line, skips the literal by its length, and reads on. Parsing is pure:
/// it works on a complete frame and never waits for I/O.
public enum IMAPResponseParser {
    /// The length of the first complete response in `bytes` (CRLF and literals included), or nil when more bytes are needed.
    /// Throws when a literal is larger than `maxLiteral`.
    /// `bytes` must be indexed from 0 (an array or a raw buffer); literals are skipped by length, never scanned.
    public static func frameLength<Bytes: RandomAccessCollection>(_ bytes: Bytes, maxLiteral: Int) throws -> Int? where Bytes.Element == UInt8, Bytes.Index == Int {
        let array = bytes
        var position = 0
        while true {
            guard let lineEnd = findCRLF(array, from: position) else { return nil }
            guard let literal = literalLength(array, lineEnd: lineEnd) else { return lineEnd + 2 }
            guard literal <= maxLiteral else {
                throw IMAPProtocolError("a literal of \(literal) bytes is over the limit of \(maxLiteral)", line: ArraySlice(array[position..<lineEnd]))
            }
            position = lineEnd + 2 + literal
            guard position <= array.count else { return nil }
        }
    }

    static func findCRLF<Bytes: RandomAccessCollection>(_ bytes: Bytes, from start: Int) -> Int? where Bytes.Element == UInt8, Bytes.Index == Int {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// N when the line before `lineEnd` ends with `{N}` or `{N+}`.
    static func literalLength<Bytes: RandomAccessCollection>(_ bytes: Bytes, lineEnd: Int) -> Int? where Bytes.Element == UInt8, Bytes.Index == Int {
        guard lineEnd > 0, bytes[lineEnd - 1] == UInt8(ascii: "}") else { return nil }
        var index = lineEnd - 2
        if index >= 0, bytes[index] == UInt8(ascii: "+") { index -= 1 }
        var digits = 0, value = 0
        while index >= 0, (48...57).contains(bytes[index]) {
            value += Int(bytes[index] - 48) * pow10(digits)
            digits += 1
            index -= 1
        }
        guard digits > 0, digits <= 12, index >= 0, bytes[index] == UInt8(ascii: "{") else { return nil }
        return value
    }

    private static func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { acc, _ in acc * 10 } }

    /// Parses one complete frame (as found by `frameLength`).
    public static func parse(_ frame: [UInt8]) throws -> IMAPResponse {
        var reader = Reader(bytes: frame)
        if reader.consume("+") {
            _ = reader.consume(" ")
            return .continuation(reader.restOfLine())
        }
        if reader.consume("* ") {
            if let number = reader.peekNumber() {
                _ = reader.readAtomText()
                try reader.expect(" ")
                let keyword = reader.readAtomText().uppercased()
                let values = try reader.readValues()
                return .data(number: number, keyword: keyword, values: values)
            }
            let keyword = reader.readAtomText().uppercased()
            if let condition = IMAPStatus.Condition(rawValue: keyword) { return .status(reader.readStatusRest(condition)) }
            return .data(number: nil, keyword: keyword, values: try reader.readValues())
        }
        let tag = reader.readAtomText()
        guard !tag.isEmpty, reader.consume(" ") else { throw IMAPProtocolError("expected '*', '+' or a tag", line: frame[...]) }
        let word = reader.readAtomText().uppercased()
        guard let condition = IMAPStatus.Condition(rawValue: word) else { throw IMAPProtocolError("expected OK, NO or BAD after tag \(tag)", line: frame[...]) }
        return .tagged(tag: tag, reader.readStatusRest(condition))
    }

    /// A cursor over one frame.
    struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index >= bytes.count || (bytes[index] == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) }

        mutating func consume(_ text: String) -> Bool {
            let expected = Array(text.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else { return false }
            index += expected.count
            return true
        }

        mutating func expect(_ text: String) throws {
            guard consume(text) else { throw IMAPProtocolError("expected '\(text)' at byte \(index)", line: bytes[...]) }
        }

        func peekNumber() -> UInt32? {
            var end = index
            while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
            guard end > index, end < bytes.count, bytes[end] == 32 else { return nil }
            return UInt32(String(decoding: bytes[index..<end], as: UTF8.self))
        }

        /// Characters up to a space, parenthesis, bracket end or line end.
        mutating func readAtomText() -> String {
            let start = index
            while index < bytes.count, !Self.atomStops.contains(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        static let atomStops: Set<UInt8> = [32, 40, 41, 13, 10, UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "]"), UInt8(ascii: "[")]

        mutating func restOfLine() -> String {
            let start = index
            while !atEnd { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// `[code] text` after a status word.
        mutating func readStatusRest(_ condition: IMAPStatus.Condition) -> IMAPStatus {
            _ = consume(" ")
            var code: String?
            if consume("[") {
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "]"), !atEnd { index += 1 }
                code = String(decoding: bytes[start..<index], as: UTF8.self)
                _ = consume("]")
                _ = consume(" ")
            }
            return IMAPStatus(condition, code: code, text: restOfLine())
        }

        /// Space-separated values up to the end of the line.
        mutating func readValues() throws -> [IMAPValue] {
            var values: [IMAPValue] = []
            while true {
                while consume(" ") {}
                if atEnd { return values }
                values.append(try readValue())
            }
        }

        mutating func readValue() throws -> IMAPValue {
            guard index < bytes.count else { throw IMAPProtocolError("the response ended inside a value", line: bytes[...]) }
            switch bytes[index] {
            case UInt8(ascii: "("):
                index += 1
                var items: [IMAPValue] = []
                while true {
                    while consume(" ") {}
                    if consume(")") { return .list(items) }
                    if atEnd { throw IMAPProtocolError("a list is not closed", line: bytes[...]) }
                    items.append(try readValue())
                }
            case UInt8(ascii: "\""):
                return .string(try readQuoted())
            case UInt8(ascii: "{"):
                return .string(try readLiteral())
            default:
                var atom = readAtomText()
                // A section such as BODY[HEADER.FIELDS (FROM)] or BODY[]<0> belongs to the atom.
                if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
                    let start = index
                    var depth = 0
                    while index < bytes.count {
                        if bytes[index] == UInt8(ascii: "[") { depth += 1 }
                        if bytes[index] == UInt8(ascii: "]") { depth -= 1; if depth == 0 { index += 1; break } }
                        index += 1
                    }
                    if index < bytes.count, bytes[index] == UInt8(ascii: "<") {
                        while index < bytes.count, bytes[index] != UInt8(ascii: ">") { index += 1 }
                        index += 1
                    }
                    atom += String(decoding: bytes[start..<min(index, bytes.count)], as: UTF8.self)
                }
                guard !atom.isEmpty else { throw IMAPProtocolError("unexpected '\(Character(UnicodeScalar(bytes[index])))'", line: bytes[...]) }
                return atom.uppercased() == "NIL" ? .nilValue : .atom(atom)
            }
        }

        mutating func readQuoted() throws -> [UInt8] {
            index += 1
            var result: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return result }
                if byte == UInt8(ascii: "\\"), index < bytes.count { result.append(bytes[index]); index += 1; continue }
                if byte == 13 || byte == 10 { break }
                result.append(byte)
            }
            throw IMAPProtocolError("a quoted string is not closed", line: bytes[...])
        }

        mutating func readLiteral() throws -> [UInt8] {
            index += 1
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            guard let length = Int(String(decoding: bytes[start..<index], as: UTF8.self)) else { throw IMAPProtocolError("a literal has no length", line: bytes[...]) }
            _ = consume("+")
            guard consume("}\r\n"), index + length <= bytes.count else { throw IMAPProtocolError("a literal is cut short", line: bytes[...]) }
            defer { index += length }
            return Array(bytes[index..<index + length])
        }
    }
}
