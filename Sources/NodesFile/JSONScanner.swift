import Columnar

/// A JSON value as the line scanner met it, without building objects: scalars are decoded, nested objects and
/// arrays are kept as minified JSON text.
enum ScannedJSON {
    case null
    case bool(Bool)
    /// A number: its text, and whether it is an integer (no fraction or exponent).
    case number(UnsafeBufferPointer<UInt8>, isInteger: Bool)
    /// A decoded string (escapes resolved) in the scanner's scratch buffer.
    case string
    /// A nested object or array, minified, in the scanner's scratch buffer.
    case nested

    /// The column type this value suggests for inference (nil for null).
    var inferredType: DataType? {
        switch self {
        case .null: nil
        case .bool: .bool
        case let .number(_, isInteger): isInteger ? .int64 : .float64
        case .string: .string
        case .nested: .json
        }
    }
}

/// Reads one JSON object per line directly from bytes (RFC 8259), calling back per key.
///
/// No dictionary or array is built per line; decoded strings and minified nested values go to a
/// reused scratch buffer. Errors are reported as a message; the caller rejects the line.
struct JSONScanner {
    struct Failure: Error {
        let message: String
    }

    private(set) var scratch: [UInt8] = []
    private var b: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
    private var i = 0

    /// Parses `line` as one object; `body` gets each key (as bytes) and value, in order.
    mutating func object(_ line: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, ScannedJSON, [UInt8]) throws(Failure) -> Void) throws(Failure) {
        b = line
        i = 0
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "{") else { throw Failure(message: "not a JSON object") }
        i += 1
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            var escapedKey: [UInt8] = []
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure(message: "expected a key at byte \(i + 1)") }
                // Keys without escapes are passed as a slice of the line (no copy).
                let keyStart = i + 1
                var j = keyStart
                var escaped = false
                while j < b.count, b[j] != UInt8(ascii: "\"") {
                    if b[j] == UInt8(ascii: "\\") { escaped = true; j += 2 } else { j += 1 }
                }
                var key = UnsafeBufferPointer(rebasing: b[keyStart..<min(j, b.count)])
                if escaped {
                    try string()
                    escapedKey = scratch
                } else {
                    guard j < b.count else { throw Failure(message: "unterminated key") }
                    i = j + 1
                }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Failure(message: "expected ':' at byte \(i + 1)") }
                i += 1
                skipSpace()
                let value = try value()
                if escaped {
                    try escapedKey.withUnsafeBufferPointer { k throws(Failure) in try body(k, value, scratch) }
                } else {
                    try body(key, value, scratch)
                }
                key = UnsafeBufferPointer(start: nil, count: 0)
                skipSpace()
                guard i < b.count else { throw Failure(message: "unterminated object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                guard b[i] == UInt8(ascii: "}") else { throw Failure(message: "expected ',' or '}' at byte \(i + 1)") }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == b.count else { throw Failure(message: "unexpected text after the object at byte \(i + 1)") }
    }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
    }

    private mutating func value() throws(Failure) -> ScannedJSON {
        guard i < b.count else { throw Failure(message: "expected a value") }
        switch b[i] {
        case UInt8(ascii: "\""):
            try string()
            return .string
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            scratch.removeAll(keepingCapacity: true)
            try nested(depth: 0)
            return .nested
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count, memcmp(b.baseAddress! + i, word.utf8Start, n) == 0 else { throw Failure(message: "invalid literal at byte \(i + 1)") }
        i += n
    }

    private mutating func number() throws(Failure) -> ScannedJSON {
        let start = i
        var integer = true
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        guard i > digitsStart else { throw Failure(message: "invalid value at byte \(start + 1)") }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            integer = false
            i += 1
            let fraction = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > fraction else { throw Failure(message: "invalid number at byte \(start + 1)") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            integer = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let exponent = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > exponent else { throw Failure(message: "invalid number at byte \(start + 1)") }
        }
        return .number(UnsafeBufferPointer(rebasing: b[start..<i]), isInteger: integer)
    }

    /// Decodes a string at `i` (on its opening quote) into `scratch`.
    private mutating func string() throws(Failure) {
        scratch.removeAll(keepingCapacity: true)
        i += 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c < 0x20 { throw Failure(message: "control character in a string at byte \(i + 1)") }
            if c != UInt8(ascii: "\\") { scratch.append(c); i += 1; continue }
            guard i + 1 < b.count else { break }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
            case UInt8(ascii: "b"): scratch.append(8)
            case UInt8(ascii: "f"): scratch.append(12)
            case UInt8(ascii: "n"): scratch.append(10)
            case UInt8(ascii: "r"): scratch.append(13)
            case UInt8(ascii: "t"): scratch.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Failure(message: "invalid surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Failure(message: "invalid \\u escape") }
                scratch.append(contentsOf: String(Character(unicode)).utf8)
            default: throw Failure(message: "invalid escape at byte \(i)")
            }
        }
        throw Failure(message: "unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= b.count else { throw Failure(message: "truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw Failure(message: "invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// Copies a nested object or array into `scratch`, minified, checking its structure.
    private mutating func nested(depth: Int) throws(Failure) {
        guard depth < 512 else { throw Failure(message: "nesting is too deep") }
        let open = b[i]
        let close: UInt8 = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
        scratch.append(open)
        i += 1
        skipSpace()
        if i < b.count, b[i] == close { scratch.append(close); i += 1; return }
        while true {
            skipSpace()
            if open == UInt8(ascii: "{") {
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure(message: "expected a key at byte \(i + 1)") }
                try copyString()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Failure(message: "expected ':' at byte \(i + 1)") }
                scratch.append(UInt8(ascii: ":"))
                i += 1
                skipSpace()
            }
            guard i < b.count else { throw Failure(message: "unterminated value") }
            switch b[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): try nested(depth: depth + 1)
            case UInt8(ascii: "\""): try copyString()
            default:
                let start = i
                _ = try value()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
            }
            skipSpace()
            guard i < b.count else { throw Failure(message: "unterminated value") }
            if b[i] == UInt8(ascii: ",") { scratch.append(UInt8(ascii: ",")); i += 1; continue }
            guard b[i] == close else { throw Failure(message: "expected ',' or '\(Character(Unicode.Scalar(close)))' at byte \(i + 1)") }
            scratch.append(close)
            i += 1
            return
        }
    }

    /// Copies a string token verbatim (escapes kept) into `scratch`, checking it is well formed.
    private mutating func copyString() throws(Failure) {
        let start = i
        i += 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
                return
            }
            if c < 0x20 { throw Failure(message: "control character in a string at byte \(i + 1)") }
            i += c == UInt8(ascii: "\\") ? 2 : 1
        }
        throw Failure(message: "unterminated string")
    }
}

#if canImport(Glibc)
import Glibc
#endif
