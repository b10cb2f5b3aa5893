import Foundation
public import NodeKit

/// An e-mail address with an optional display name: `Sluice reports <reports@example.com>` or `ops@example.com`.
public struct MailAddress: Sendable, Equatable {
    public let name: String?
    public let address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// Reads `addr@domain`, `<addr@domain>` or `Name <addr@domain>` (the name may be quoted); nil when no valid address is there.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
            guard Self.isValid(address) else { return nil }
            self.init(name: name.isEmpty ? nil : name, address: address)
        } else {
            guard Self.isValid(trimmed) else { return nil }
            self.init(address: trimmed)
        }
    }

    /// A plain `local@domain` address as SMTP carries it: one `@`, a non-empty local part of at most 64 bytes, a
    /// domain of dot-separated labels, no spaces, controls, brackets, quotes or commas; at most 254 bytes in all.
    public static func isValid(_ address: String) -> Bool {
        guard address.utf8.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at], domain = address[address.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty, !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return false }
        let forbidden = Set(" \t\r\n<>()[]\\,;:\"@")
        guard !local.contains(where: { forbidden.contains($0) || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true }) else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }

    /// The address for a header: `Name <addr>`, the name quoted when it holds specials, or encoded (RFC 2047) when not ASCII.
    var headerText: String {
        guard let name, !name.isEmpty else { return address }
        let clean = name.filter { $0 != "\r" && $0 != "\n" }
        if !clean.allSatisfy(\.isASCII) { return MailHeaders.encodedWords(clean).joined(separator: " ") + " <\(address)>" }
        if clean.contains(where: { "()<>[]:;@\\,.\"".contains($0) }) {
            return "\"" + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\" <\(address)>"
        }
        return "\(clean) <\(address)>"
    }
}

/// A file attached to a message: the same shape mailbox triggers read attachments in.
public typealias MailAttachment = MailboxMessage.Attachment

/// A message to send, rendered as RFC 5322 text with MIME (RFC 2045–2047): a plain-text body, an HTML body, both
/// (multipart/alternative), and attachments (multipart/mixed, base64). Bodies are UTF-8 in quoted-printable; header
/// text that is not ASCII becomes encoded words. Bcc recipients are envelope recipients only, never a header.
public struct OutgoingMail: Sendable {
    public var from: MailAddress
    public var to: [String]
    public var cc: [String] = []
    public var bcc: [String] = []
    public var subject: String
    public var text: String?
    public var html: String?
    public var attachments: [MailAttachment] = []
    public var date = Date()
    /// Fixed in tests; random otherwise.
    public var boundarySeed = UUID().uuidString

    public init(from: MailAddress, to: [String], subject: String) {
        self.from = from
        self.to = to
        self.subject = subject
    }

    /// Everyone the message goes to: to, cc and bcc, each once.
    public var recipients: [String] {
        var seen = Set<String>()
        return (to + cc + bcc).filter { seen.insert($0.lowercased()).inserted }
    }

    /// The message as sent in DATA (CRLF line breaks, before dot-stuffing).
    public func rendered() -> [UInt8] {
        var headers: [(String, String)] = [
            ("Date", MailHeaders.date(date)),
            ("From", from.headerText),
        ]
        if !to.isEmpty { headers.append(("To", to.joined(separator: ", "))) }
        if !cc.isEmpty { headers.append(("Cc", cc.joined(separator: ", "))) }
        headers.append(("Subject", MailHeaders.unstructured(subject)))
        let domain = from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        headers.append(("Message-ID", "<\(boundarySeed.lowercased())@\(domain)>"))
        headers.append(("MIME-Version", "1.0"))
        headers.append(("Auto-Submitted", "auto-generated"))
        var out = ""
        for (name, value) in headers { out += MailHeaders.folded(name + ": " + value) + "\r\n" }
        out += body()
        return Array(out.utf8)
    }

    private func body() -> String {
        let textPart = MIMEPart.text(text ?? (html == nil ? "" : nil), html: html, boundary: "alt-" + boundarySeed)
        guard !attachments.isEmpty else { return textPart }
        let boundary = "mixed-" + boundarySeed
        var out = "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\nThis is a MIME message.\r\n"
        out += "--\(boundary)\r\n" + textPart
        for attachment in attachments {
            let name = MailHeaders.parameterValue(attachment.fileName)
            out += "--\(boundary)\r\n"
            out += "Content-Type: \(attachment.contentType); name=\(name)\r\n"
            out += "Content-Disposition: attachment; filename=\(name)\r\n"
            out += "Content-Transfer-Encoding: base64\r\n\r\n"
            out += Data(attachment.bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]) + "\r\n"
        }
        out += "--\(boundary)--\r\n"
        return out
    }
}

/// The body parts of a message: a text part, an HTML part, or both as alternatives.
enum MIMEPart {
    /// Headers and body of the text part (starting with its Content-Type line).
    static func text(_ text: String?, html: String?, boundary: String) -> String {
        switch (text, html) {
        case let (text?, html?):
            return "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
                + "--\(boundary)\r\n" + single(text, subtype: "plain") + "--\(boundary)\r\n" + single(html, subtype: "html") + "--\(boundary)--\r\n"
        case let (nil, html?): return single(html, subtype: "html")
        case let (text, nil): return single(text ?? "", subtype: "plain")
        }
    }

    static func single(_ content: String, subtype: String) -> String {
        "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + quotedPrintable(content) + "\r\n"
    }

    /// Quoted-printable (RFC 2045 §6.7): line breaks as CRLF, lines at most 76 characters (soft breaks `=`),
    /// `=`, controls, non-ASCII bytes and trailing spaces as `=XX`.
    static func quotedPrintable(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var out = ""
        for (index, line) in normalized.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { out += "\r\n" }
            var current = ""
            let bytes = Array(line.utf8)
            for (k, byte) in bytes.enumerated() {
                let isLast = k == bytes.count - 1
                let piece: String
                if (byte == 0x20 || byte == 0x09) && !isLast {
                    piece = String(UnicodeScalar(byte))
                } else if byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=") {
                    piece = String(UnicodeScalar(byte))
                } else {
                    piece = "=" + String(format: "%02X", byte)
                }
                if current.count + piece.count > 75 {
                    out += current + "=\r\n"
                    current = ""
                }
                current += piece
            }
            out += current
        }
        return out
    }
}

/// Header text: encoded words, folding, dates.
enum MailHeaders {
    /// An unstructured header value (Subject): as is when ASCII, else RFC 2047 encoded words; line breaks removed.
    static func unstructured(_ value: String) -> String {
        let clean = value.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        return clean.allSatisfy({ $0.isASCII && ($0 == " " || $0.asciiValue! >= 32) }) ? clean : encodedWords(clean).joined(separator: " ")
    }

    /// `=?UTF-8?B?…?=` words of at most 75 characters, split between characters (never inside one).
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words
    }

    /// A header line folded before 78 characters where it has spaces (RFC 5322 §2.2.3).
    static func folded(_ line: String) -> String {
        guard line.count > 78 else { return line }
        var out = ""
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty, current.count + 1 + word.count > 76 {
                out += current + "\r\n"
                current = " " + word
            } else {
                current += current.isEmpty ? String(word) : " " + word
            }
        }
        return out + current
    }

    /// A MIME parameter value (a file name), quoted; a non-ASCII name is sent as encoded words, which mail clients read.
    static func parameterValue(_ value: String) -> String {
        let clean = value.filter { $0 != "\r" && $0 != "\n" && $0 != "\"" && $0 != "\\" }
        return "\"" + (clean.allSatisfy(\.isASCII) ? clean : encodedWords(clean).joined(separator: " ")) + "\""
    }

    /// RFC 5322 date-time in UTC: `Sat, 05 Dec 2026 08:20:43 +0000`.
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
