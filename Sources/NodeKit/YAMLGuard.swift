/// Checks YAML or JSON text before it is parsed, so that hostile documents are refused with a clear error
/// instead of exhausting the stack or memory: nesting deeper than `maximumDepth` (YAML's composer recurses
/// once per level), and JSON's UTF-16 surrogate-pair escapes, which YAML does not read, rewritten to the
/// one escape YAML has for them. Alias expansion is bounded later, while the parsed tree is converted.
enum YAMLGuard {
    /// The deepest nesting a document may have: flow collections (`[`, `{`) and block indentation.
    /// A pipeline document needs about ten levels; JSON values in settings a few more.
    static let maximumDepth = 128

    /// Refuses text nested too deeply; returns the text with JSON surrogate pairs rewritten.
    static func prepare(_ text: String, file: String?) throws(ConfigError) -> String {
        var depth = 0
        var line = 1
        var column = 0
        var indentation = 0
        var atLineStart = true
        var quote: UInt8? = nil
        var escaped = false
        var inComment = false
        var sawSurrogateEscape = false
        // Quotes open a scalar and '#' a comment only where a token starts (`it's` and `a#b` are plain text).
        var previous = UInt8(ascii: " ")
        for byte in text.utf8 {
            column += 1
            if byte == UInt8(ascii: "\n") {
                // Quoted scalars may span lines; flow depth carries over.
                line += 1; column = 0; indentation = 0; atLineStart = true; inComment = false; previous = UInt8(ascii: " ")
                continue
            }
            if inComment { continue }
            if let open = quote {
                if escaped {
                    escaped = false
                    if byte == UInt8(ascii: "u") { sawSurrogateEscape = true }
                } else if byte == UInt8(ascii: "\\") && open == UInt8(ascii: "\"") {
                    escaped = true
                } else if byte == open {
                    quote = nil
                }
                previous = byte
                continue
            }
            if atLineStart {
                if byte == UInt8(ascii: " ") {
                    indentation += 1
                    // Block nesting takes at least one column per level (two for a sequence inside a mapping).
                    if indentation > 2 * maximumDepth { throw tooDeep(file: file, line: line, column: column) }
                    continue
                }
                atLineStart = false
            }
            let afterSpace = previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t")
            let startsToken = afterSpace || previous == UInt8(ascii: "[") || previous == UInt8(ascii: "{") || previous == UInt8(ascii: ",")
                || previous == UInt8(ascii: ":") || previous == UInt8(ascii: "-")
            previous = byte
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                if startsToken { quote = byte }
            case UInt8(ascii: "#"):
                if afterSpace { inComment = true }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth { throw tooDeep(file: file, line: line, column: column) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
            default:
                break
            }
        }
        return sawSurrogateEscape ? rewritingSurrogatePairs(text) : text
    }

    private static func tooDeep(file: String?, line: Int, column: Int) -> ConfigError {
        ConfigError(code: "document_too_deep", message: "the document is nested more than \(maximumDepth) levels deep",
                    location: SourceLocation(file: file, line: line, column: column))
    }

    /// `\uD83D\uDE80` (JSON's escape for one character outside the Basic Multilingual Plane) becomes
    /// `\U0001F680`, YAML's; an escaped backslash before it (`\\uD83D`) is left alone.
    static func rewritingSurrogatePairs(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 12 <= bytes.count,
               bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 6] == UInt8(ascii: "\\"), bytes[index + 7] == UInt8(ascii: "u"),
               precededByEvenBackslashes(bytes, index),
               let high = hexValue(bytes[(index + 2)..<(index + 6)]), let low = hexValue(bytes[(index + 8)..<(index + 12)]),
               (0xD800...0xDBFF).contains(high), (0xDC00...0xDFFF).contains(low) {
                let scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                let hex = String(scalar, radix: 16, uppercase: true)
                output += Array("\\U".utf8) + Array(repeating: UInt8(ascii: "0"), count: 8 - hex.utf8.count) + Array(hex.utf8)
                index += 12
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func precededByEvenBackslashes(_ bytes: [UInt8], _ index: Int) -> Bool {
        var count = 0
        var position = index - 1
        while position >= 0, bytes[position] == UInt8(ascii: "\\") { count += 1; position -= 1 }
        return count % 2 == 0
    }

    private static func hexValue(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for digit in digits {
            guard let nibble = Int(String(UnicodeScalar(digit)), radix: 16) else { return nil }
            value = value * 16 + nibble
        }
        return value
    }
}
