import Foundation

/// A mail message (RFC 5322 with MIME, RFC 2045–2049) read from its raw bytes: decoded headers, the text
/// body, and the attachments with their bytes. Nested multiparts are walked; a forwarded message
/// (`message/rfc822`) counts as an attachment.
public struct MailMessage: Sendable {
    /// A file attached to the message.
    public struct Attachment: Sendable {
        public let fileName: String
        public let contentType: String
        public let bytes: [UInt8]
    }

    /// Header fields in order, unfolded, values not yet decoded.
    public let headers: [(name: String, value: String)]
    /// The first text/plain part (decoded to text), if any.
    public private(set) var text: String?
    /// The first text/html part, if any.
    public private(set) var html: String?
    public private(set) var attachments: [Attachment] = []

    public init(_ bytes: [UInt8]) {
        let (headerBytes, body) = Self.split(bytes[...])
        headers = Self.headerFields(headerBytes)
        walk(headers: headers, body: body, depth: 0)
    }

    /// A header's value with encoded words decoded (the first field of that name).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map { MIMEDecoding.headerText($0.value).trimmingCharacters(in: .whitespaces) }
    }

    public var subject: String { header("Subject") ?? "" }
    public var from: String { header("From") ?? "" }
    public var to: String { header("To") ?? "" }
    public var cc: String { header("Cc") ?? "" }
    public var messageID: String { header("Message-ID")?.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) ?? "" }

    /// The `Date` header as ISO-8601 (UTC), or as written when it cannot be read.
    public var date: String? {
        guard let raw = header("Date") else { return nil }
        return Self.isoDate(raw) ?? raw
    }

    /// The e-mail addresses in an address header (`"Ann" <ann@example.com>, bob@example.com` → both addresses).
    public static func addresses(_ header: String) -> [String] {
        var found: [String] = []
        for piece in header.split(separator: ",") {
            if let open = piece.firstIndex(of: "<"), let close = piece[open...].firstIndex(of: ">") {
                found.append(String(piece[piece.index(after: open)..<close]).trimmingCharacters(in: .whitespaces))
            } else if let word = piece.split(separator: " ").first(where: { $0.contains("@") }) {
                found.append(word.trimmingCharacters(in: CharacterSet(charactersIn: "\"'<>() ")))
            }
        }
        return found
    }

    /// The text body, or the HTML body with its tags removed when the message has no plain text.
    public var bodyText: String {
        if let text { return text }
        guard let html else { return "" }
        return html.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
            .replacingOccurrences(of: "[ \t]+", with: " ", options: .regularExpression).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private mutating func walk(headers: [(name: String, value: String)], body: ArraySlice<UInt8>, depth: Int) {
        func field(_ name: String) -> String? { headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
        let contentType = MIMEDecoding.parameters(field("Content-Type") ?? "text/plain")
        let disposition = MIMEDecoding.parameters(field("Content-Disposition") ?? "")
        let type = contentType.value.isEmpty ? "text/plain" : contentType.value
        if type.hasPrefix("multipart/"), let boundary = contentType.parameters["boundary"], depth < 20 {
            for part in Self.parts(of: body, boundary: boundary) {
                let (partHeaders, partBody) = Self.split(part)
                walk(headers: Self.headerFields(partHeaders), body: partBody, depth: depth + 1)
            }
            return
        }
        let bytes: [UInt8]
        switch field("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64"?: bytes = MIMEDecoding.base64(body)
        case "quoted-printable"?: bytes = MIMEDecoding.quotedPrintable(body)
        default: bytes = Array(body)
        }
        let fileName = disposition.parameters["filename"] ?? contentType.parameters["name"]
        if disposition.value == "attachment" || fileName != nil || type == "message/rfc822" {
            let name = fileName ?? (type == "message/rfc822" ? "message.eml" : "attachment-\(attachments.count + 1)")
            attachments.append(Attachment(fileName: name, contentType: type, bytes: bytes))
        } else if type == "text/plain", text == nil {
            text = MIMEDecoding.text(bytes, charset: contentType.parameters["charset"])
        } else if type == "text/html", html == nil {
            html = MIMEDecoding.text(bytes, charset: contentType.parameters["charset"])
        }
    }

    /// Header block and body, split at the first empty line.
    static func split(_ bytes: ArraySlice<UInt8>) -> (headers: ArraySlice<UInt8>, body: ArraySlice<UInt8>) {
        if bytes.first == 13 || bytes.first == 10 {
            let skip = bytes.starts(with: [13, 10]) ? 2 : 1
            return (bytes[bytes.startIndex..<bytes.startIndex], bytes.dropFirst(skip))
        }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 10 {
                let next = bytes.index(after: index)
                if next < bytes.endIndex, bytes[next] == 10 { return (bytes[..<index], bytes[(next + 1)...]) }
                if next + 1 < bytes.endIndex, bytes[next] == 13, bytes[next + 1] == 10 { return (bytes[..<index], bytes[(next + 2)...]) }
            }
            index += 1
        }
        return (bytes, bytes[bytes.endIndex...])
    }

    /// Unfolded header fields (a line starting with space or tab continues the one before).
    static func headerFields(_ bytes: ArraySlice<UInt8>) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        let text = MIMEDecoding.text(Array(bytes), charset: "utf-8")
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.first == " " || line.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                fields.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
        }
        return fields
    }

    /// The body parts between `--boundary` lines (up to `--boundary--`).
    static func parts(of body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: 10) ?? body.endIndex
            let line = body[lineStart..<lineEnd]
            if line.starts(with: delimiter) {
                let after = line.dropFirst(delimiter.count)
                if let start = partStart {
                    // The CRLF before the delimiter belongs to the delimiter.
                    var end = lineStart
                    if end > start, body[end - 1] == 10 { end -= 1 }
                    if end > start, body[end - 1] == 13 { end -= 1 }
                    parts.append(body[start..<max(start, end)])
                }
                if after.starts(with: [45, 45]) { return parts }
                partStart = min(lineEnd + 1, body.endIndex)
            }
            lineStart = lineEnd + 1
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }

    static func isoDate(_ raw: String) -> String? {
        let cleaned = raw.replacingOccurrences(of: "\\s*\\([^)]*\\)\\s*$", with: "", options: .regularExpression).trimmingCharacters(in: .whitespaces)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in ["EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z", "EEE, d MMM yy HH:mm:ss Z"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: cleaned) { return ISO8601DateFormatter().string(from: date) }
        }
        return nil
    }
}
