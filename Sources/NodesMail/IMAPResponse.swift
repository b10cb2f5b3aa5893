/// One response from an IMAP server (RFC 9051 §7), parsed from a complete frame (a line with its literals).
public enum IMAPResponse: Sendable, Equatable {
    /// `+ text`: the server waits for the rest of a command (a literal).
    case continuation(String)
    /// `* OK|NO|BAD|BYE|PREAUTH [code] text`.
    case status(IMAPStatus)
    /// `* [number] KEYWORD values…`, e.g. `* 3 EXISTS`, `* SEARCH 4 9`, `* 9 FETCH (UID 12 BODY[] {42}…)`.
    case data(number: UInt32?, keyword: String, values: [IMAPValue])
    /// `TAG OK|NO|BAD [code] text`: the end of the command sent with that tag.
    case tagged(tag: String, IMAPStatus)
}

/// A status condition with its optional response code (`UIDVALIDITY 3857529045`) and human text.
public struct IMAPStatus: Sendable, Equatable {
    public enum Condition: String, Sendable { case ok = "OK", no = "NO", bad = "BAD", bye = "BYE", preauth = "PREAUTH" }

    public let condition: Condition
    /// The text inside `[...]`, e.g. `UIDNEXT 4392` or `AUTHENTICATIONFAILED`.
    public let code: String?
    public let text: String

    public init(_ condition: Condition, code: String?, text: String) {
        self.condition = condition
        self.code = code
        self.text = text
    }

    /// The number after a response code word (`UIDVALIDITY 3857529045` → 3857529045 for "UIDVALIDITY").
    public func codeNumber(_ word: String) -> UInt32? {
        guard let parts = code?.split(separator: " "), parts.count == 2, parts[0].uppercased() == word else { return nil }
        return UInt32(parts[1])
    }
}

/// A value in a data response: an atom (including numbers and `BODY[...]` section names), a string
/// (quoted or literal, as bytes), NIL, or a parenthesized list.
public enum IMAPValue: Sendable, Equatable {
    case atom(String)
    case string([UInt8])
    case nilValue
    case list([IMAPValue])

    public var number: UInt32? { if case let .atom(a) = self { UInt32(a) } else { nil } }
    public var atomText: String? { if case let .atom(a) = self { a } else { nil } }
    public var bytes: [UInt8]? { if case let .string(s) = self { s } else { nil } }
    public var text: String? {
        switch self {
        case let .string(s): String(decoding: s, as: UTF8.self)
        case let .atom(a): a
        default: nil
        }
    }
    public var items: [IMAPValue]? { if case let .list(l) = self { l } else { nil } }
}

/// A `FETCH` response's attributes by name (`UID`, `RFC822.SIZE`, `INTERNALDATE`, `BODY[]`).
public struct IMAPFetch: Sendable {
    public let sequenceNumber: UInt32
    public let attributes: [String: IMAPValue]

    /// Reads the attribute list of `* n FETCH (NAME value NAME value …)`.
    public init?(_ response: IMAPResponse) {
        guard case let .data(number?, keyword, values) = response, keyword == "FETCH", let list = values.first?.items, list.count % 2 == 0 else { return nil }
        var attributes: [String: IMAPValue] = [:]
        for index in stride(from: 0, to: list.count, by: 2) {
            guard let name = list[index].atomText else { return nil }
            attributes[name.uppercased()] = list[index + 1]
        }
        sequenceNumber = number
        self.attributes = attributes
    }

    public var uid: UInt32? { attributes["UID"]?.number }
    public var size: Int? { attributes["RFC822.SIZE"]?.number.map(Int.init) }
    public var internalDate: String? { attributes["INTERNALDATE"]?.text }
    /// The bytes of `BODY[]` (what `BODY.PEEK[]` returns).
    public var body: [UInt8]? { attributes["BODY[]"]?.bytes }
}
