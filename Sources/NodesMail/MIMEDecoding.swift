import Foundation

/// Decoders for the encodings inside mail messages: base64 and quoted-printable bodies (RFC 2045),
/// encoded words in headers (RFC 2047), and parameters with continuations and charsets (RFC 2231).
enum MIMEDecoding {
    static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        let cleaned = bytes.filter { !($0 == 13 || $0 == 10 || $0 == 32 || $0 == 9) }
        var text = String(decoding: cleaned, as: UTF8.self)
        while text.count % 4 != 0 { text += "=" }
        return [UInt8](Data(base64Encoded: text, options: .ignoreUnknownCharacters) ?? Data())
    }

    static func quotedPrintable(_ bytes: ArraySlice<UInt8>, underscoreIsSpace: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                let next = bytes.index(after: index)
                if next < bytes.endIndex, bytes[next] == 13 || bytes[next] == 10 {
                    // A soft line break: "=" CRLF (or a bare LF).
                    index = bytes[next] == 13 && bytes.index(after: next) < bytes.endIndex && bytes[bytes.index(after: next)] == 10 ? next + 2 : next + 1
                    continue
                }
                if next + 1 < bytes.endIndex, let high = hex(bytes[next]), let low = hex(bytes[next + 1]) {
                    output.append(high << 4 | low)
                    index = next + 2
                    continue
                }
            }
            output.append(underscoreIsSpace && byte == UInt8(ascii: "_") ? 32 : byte)
            index += 1
        }
        return output
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }

    /// Text in a charset; unknown charsets read as UTF-8, then Latin-1 when that fails.
    static func text(_ bytes: [UInt8], charset: String?) -> String {
        let name = (charset ?? "utf-8").lowercased()
        let encoding: String.Encoding? = switch name {
        case "utf-8", "utf8", "us-ascii", "ascii": .utf8
        case "iso-8859-1", "latin1", "iso8859-1": .isoLatin1
        case "iso-8859-2": .isoLatin2
        case "windows-1252", "cp1252": .windowsCP1252
        case "windows-1250": .windowsCP1250
        case "utf-16": .utf16
        default: nil
        }
        if let encoding, let text = String(bytes: bytes, encoding: encoding) { return text }
        if let text = String(bytes: bytes, encoding: .utf8) { return text }
        return String(bytes: bytes, encoding: .isoLatin1) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// A header value with `=?charset?B|Q?…?=` words decoded; whitespace between adjacent encoded words is dropped.
    static func headerText(_ raw: String) -> String {
        guard raw.contains("=?") else { return raw }
        var output = "", rest = Substring(raw), lastWasEncoded = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            guard let decoded = encodedWord(rest[start.lowerBound...]) else {
                output += before + "=?"
                rest = rest[start.upperBound...]
                lastWasEncoded = false
                continue
            }
            if !(lastWasEncoded && before.allSatisfy(\.isWhitespace)) { output += before }
            output += decoded.text
            rest = rest[decoded.end...]
            lastWasEncoded = true
        }
        return output + rest
    }

    /// Decodes one encoded word at the start of `text`.
    private static func encodedWord(_ text: Substring) -> (text: String, end: Substring.Index)? {
        let parts = text.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[3].hasPrefix("=") else { return nil }
        let charset = String(parts[0].split(separator: "*").first ?? "utf-8"), encoding = parts[1].uppercased(), payload = Array(parts[2].utf8)
        let bytes: [UInt8]
        switch encoding {
        case "B": bytes = base64(payload[...])
        case "Q": bytes = quotedPrintable(payload[...], underscoreIsSpace: true)
        default: return nil
        }
        let end = text.index(parts[3].startIndex, offsetBy: 1)
        return (Self.text(bytes, charset: charset), end)
    }

    /// `type/subtype; name=value; name*=utf-8''%E2%82%AC; name*0=a; name*1=b` → the value and lowercased parameters.
    static func parameters(_ raw: String) -> (value: String, parameters: [String: String]) {
        var pieces: [String] = [], current = "", quoted = false, escaped = false
        for character in raw {
            if escaped { current.append(character); escaped = false; continue }
            if quoted, character == "\\" { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";", !quoted { pieces.append(current); current = ""; continue }
            current.append(character)
        }
        pieces.append(current)
        let value = pieces.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        var simple: [String: String] = [:], extended: [String: [(Int, String, Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let text = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            let isEncoded = name.hasSuffix("*")
            if isEncoded { name.removeLast() }
            if let star = name.firstIndex(of: "*"), let section = Int(name[name.index(after: star)...]) {
                extended[String(name[..<star]), default: []].append((section, text, isEncoded))
            } else if isEncoded {
                extended[name, default: []].append((0, text, true))
            } else {
                simple[name] = text
            }
        }
        for (name, sections) in extended {
            var bytes: [UInt8] = [], charset: String?
            for (index, (_, text, encoded)) in sections.sorted(by: { $0.0 < $1.0 }).enumerated() {
                guard encoded else { bytes += Array(text.utf8); continue }
                var payload = Substring(text)
                if index == 0 {
                    let fields = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if fields.count == 3 { charset = String(fields[0]); payload = fields[2] }
                }
                bytes += percentDecoded(payload)
            }
            simple[name] = Self.text(bytes, charset: charset)
        }
        return (value, simple.mapValues(headerText))
    }

    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var output: [UInt8] = [], index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
               let byte = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16) {
                output.append(byte)
                index += 3
            } else {
                output.append(utf8[index])
                index += 1
            }
        }
        return output
    }
}
