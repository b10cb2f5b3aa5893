import Foundation
public import Store

/// What starts runs: the kinds of trigger Sluice knows.
public enum TriggerKind: String, Sendable, CaseIterable {
    case cron, interval, webhook, watermark, file
    case httpPoll = "http_poll"
    case imap

    /// Kinds the scheduler polls (a webhook fires when called; the others when their check finds something).
    var isPolled: Bool { self != .webhook }
}

/// What a firing does when the pipeline still has a queued or running run.
public enum OverlapPolicy: String, Sendable, CaseIterable {
    case skip, queue
    case cancelPrevious = "cancel-previous"
}

/// What a time trigger does with fire times that passed while no scheduler was running.
public enum MissedPolicy: String, Sendable, CaseIterable {
    case none, latest, all
}

/// A trigger definition problem, naming the field (`settings.schedule`, `rule`, `pipelines[0].pipeline`).
public struct TriggerConfigError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let field: String?

    public init(_ code: String, _ message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// An `invalid_value` error.
    public init(_ message: String, field: String?) { self.init("invalid_value", message, field: field) }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}

/// A trigger's settings, checked and typed per kind.
public enum TriggerSettings: Sendable {
    case cron(CronSchedule)
    case interval(IntervalSettings)
    case webhook(WebhookSettings)
    case watermark(WatermarkSettings)
    case file(FileArrivalSettings)
    case httpPoll(HTTPPollSettings)
    case imap(IMAPTriggerSettings)

    /// Validates `settings` (a JSON object) for `kind`; every problem names its field under `settings.`.
    public static func parse(kind: TriggerKind, _ settings: JSONValue) throws(TriggerConfigError) -> TriggerSettings {
        var reader = SettingsReader(settings)
        let parsed: TriggerSettings
        switch kind {
        case .cron:
            let text = try reader.string("schedule", required: true)!
            let zoneName = try reader.string("timezone") ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else {
                throw TriggerConfigError("unknown time zone '\(zoneName)'; use an IANA name such as Europe/Berlin", field: "settings.timezone")
            }
            do { parsed = .cron(CronSchedule(try CronExpression(text), timeZone: zone)) } catch {
                throw TriggerConfigError("invalid_cron", error.description, field: "settings.schedule")
            }
        case .interval:
            let every = try reader.duration("every", required: true)!
            let align = try reader.choice("align", ["clock", "last_run"]) ?? "clock"
            parsed = .interval(IntervalSettings(everyMillis: every, fromLastRun: align == "last_run"))
        case .webhook:
            let auth = try reader.choice("auth", ["token", "hmac"]) ?? "token"
            let limit = try reader.int("max_body_bytes", in: 1...16_777_216) ?? 1_048_576
            let tolerance = try reader.int("tolerance_seconds", in: 10...3600) ?? 300
            parsed = .webhook(WebhookSettings(hmac: auth == "hmac", maxBodyBytes: limit, toleranceSeconds: tolerance))
        case .watermark:
            let connection = try reader.string("connection", required: true)!
            let table = try reader.string("table"), column = try reader.string("column"), query = try reader.string("query")
            if query == nil, table == nil || column == nil {
                throw TriggerConfigError("missing_field", "a watermark trigger needs 'table' and 'column', or a 'query' returning one value", field: "settings.table")
            }
            if query != nil, table != nil || column != nil {
                throw TriggerConfigError("give either 'table' and 'column' or 'query', not both", field: "settings.query")
            }
            let every = try reader.duration("poll_every") ?? 60_000
            let fireOnFirst = try reader.bool("fire_on_first") ?? false
            parsed = .watermark(WatermarkSettings(connection: connection, table: table, column: column, query: query, pollMillis: every, fireOnFirst: fireOnFirst))
        case .file:
            let directory = try reader.string("directory", required: true)!
            let glob = try reader.string("glob") ?? "*"
            let settle = try reader.duration("settle") ?? 5_000
            let every = try reader.duration("poll_every") ?? 5_000
            let after = try reader.choice("after", ["remember", "move"]) ?? "remember"
            parsed = .file(FileArrivalSettings(directory: directory, glob: glob, settleMillis: settle, pollMillis: every, moveToProcessed: after == "move"))
        case .httpPoll:
            let url = try reader.string("url", required: true)!
            guard let parsedURL = URL(string: url), ["http", "https"].contains(parsedURL.scheme ?? ""), parsedURL.host != nil else {
                throw TriggerConfigError("'\(url)' is not an http or https URL", field: "settings.url")
            }
            let every = try reader.duration("poll_every") ?? 60_000
            let headers = try reader.stringMap("headers")
            let timeout = try reader.int("timeout_seconds", in: 1...600) ?? 30
            parsed = .httpPoll(HTTPPollSettings(url: url, pollMillis: every, headers: headers, timeoutSeconds: timeout))
        case .imap:
            let connection = try reader.string("connection", required: true)!
            let mailbox = try reader.string("mailbox") ?? "INBOX"
            let from = try reader.string("from"), to = try reader.string("to"), subject = try reader.string("subject")
            let hasAttachment = try reader.bool("has_attachment")
            let every = try reader.duration("poll_every") ?? 60_000
            let start = try reader.choice("start", ["new", "all"]) ?? "new"
            let perPoll = try reader.int("max_messages_per_poll", in: 1...1000) ?? 50
            let maxBytes = try reader.int("max_message_bytes", in: 1024...(1 << 30)) ?? 25 << 20
            let directory = try reader.string("attachments_directory")
            parsed = .imap(IMAPTriggerSettings(connection: connection, mailbox: mailbox, from: from, to: to, subject: subject, hasAttachment: hasAttachment,
                                               pollMillis: every, includeExisting: start == "all", maxMessagesPerPoll: perPoll, maxMessageBytes: maxBytes,
                                               attachmentsDirectory: directory))
        }
        try reader.finish()
        return parsed
    }

    /// How often the scheduler checks this trigger (time kinds are checked every tick).
    var pollMillis: Int64 {
        switch self {
        case .cron, .interval, .webhook: 0
        case let .watermark(s): s.pollMillis
        case let .file(s): s.pollMillis
        case let .httpPoll(s): s.pollMillis
        case let .imap(s): s.pollMillis
        }
    }
}

/// `interval`: every N milliseconds, aligned to the clock (multiples of N since the epoch) or counted from the last run's end.
public struct IntervalSettings: Sendable {
    public let everyMillis: Int64
    public let fromLastRun: Bool
}

/// `webhook`: how callers authenticate and how large a body may be.
public struct WebhookSettings: Sendable {
    /// HMAC-SHA256 signature over `timestamp.body` instead of a bearer token.
    public let hmac: Bool
    public let maxBodyBytes: Int
    /// How far a signed timestamp may be from the server's clock.
    public let toleranceSeconds: Int
}

/// `watermark`: a value in a database polled until it grows.
public struct WatermarkSettings: Sendable {
    public let connection: String
    public let table: String?
    public let column: String?
    public let query: String?
    public let pollMillis: Int64
    public let fireOnFirst: Bool
}

/// `file`: new files in a directory, fired once each when their size is stable.
public struct FileArrivalSettings: Sendable {
    public var directory: String
    public let glob: String
    public let settleMillis: Int64
    public let pollMillis: Int64
    public let moveToProcessed: Bool
}

/// `http_poll`: a URL polled until its ETag, Last-Modified or body changes.
public struct HTTPPollSettings: Sendable {
    public let url: String
    public let pollMillis: Int64
    public let headers: [String: String]
    public let timeoutSeconds: Int
}

/// `imap`: new mail in a mailbox, polled by UID; `from`, `to` and `subject` are IMAP SEARCH filters (case-insensitive
/// substrings), `has_attachment` is checked on the fetched message.
public struct IMAPTriggerSettings: Sendable {
    public let connection: String
    public let mailbox: String
    public let from: String?
    public let to: String?
    public let subject: String?
    public let hasAttachment: Bool?
    public let pollMillis: Int64
    /// `start: all`: the first poll fires for the mail already in the mailbox (default: only mail that arrives later).
    public let includeExisting: Bool
    public let maxMessagesPerPoll: Int
    /// Larger messages fire with their headers only (`too_large: true`, no body, no attachments).
    public let maxMessageBytes: Int
    public let attachmentsDirectory: String?
}

/// Reads typed fields from a settings object and rejects unknown ones.
struct SettingsReader {
    let object: [String: JSONValue]
    var seen: Set<String> = []

    init(_ value: JSONValue) {
        if case let .object(o) = value { object = o } else { object = [:] }
    }

    mutating func value(_ key: String) -> JSONValue? {
        seen.insert(key)
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    mutating func string(_ key: String, required: Bool = false) throws(TriggerConfigError) -> String? {
        guard let value = value(key) else {
            if required { throw TriggerConfigError("missing_field", "missing required setting '\(key)'", field: "settings.\(key)") }
            return nil
        }
        guard case let .string(s) = value, !s.isEmpty else { throw TriggerConfigError("'\(key)' must be a non-empty string", field: "settings.\(key)") }
        return s
    }

    mutating func bool(_ key: String) throws(TriggerConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case let .bool(b) = value else { throw TriggerConfigError("'\(key)' must be true or false", field: "settings.\(key)") }
        return b
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws(TriggerConfigError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case let .int(i) = value, range.contains(Int(i)) else {
            throw TriggerConfigError("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound)", field: "settings.\(key)")
        }
        return Int(i)
    }

    mutating func choice(_ key: String, _ choices: [String]) throws(TriggerConfigError) -> String? {
        guard let text = try string(key) else { return nil }
        guard choices.contains(text) else { throw TriggerConfigError("'\(key)' must be one of: \(choices.joined(separator: ", "))", field: "settings.\(key)") }
        return text
    }

    /// A duration: seconds as an integer, or text such as `90s`, `15m`, `2h`, `1d`. At least one second.
    mutating func duration(_ key: String, required: Bool = false) throws(TriggerConfigError) -> Int64? {
        guard let value = value(key) else {
            if required { throw TriggerConfigError("missing_field", "missing required setting '\(key)' (a duration such as 30s, 15m or 2h)", field: "settings.\(key)") }
            return nil
        }
        let millis: Int64?
        switch value {
        case let .int(seconds): millis = seconds * 1000
        case let .string(text): millis = Self.parseDuration(text)
        default: millis = nil
        }
        guard let millis, millis >= 1000 else {
            throw TriggerConfigError("'\(key)' must be a duration of at least one second, such as 30s, 15m, 2h or 1d", field: "settings.\(key)")
        }
        return millis
    }

    static func parseDuration(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            if let number = Int64(trimmed.dropLast(suffix.count)) { return number * factor }
        }
        return Int64(trimmed).map { $0 * 1000 }
    }

    mutating func stringMap(_ key: String) throws(TriggerConfigError) -> [String: String] {
        guard let value = value(key) else { return [:] }
        guard case let .object(o) = value else { throw TriggerConfigError("'\(key)' must be a mapping of names to strings", field: "settings.\(key)") }
        var result: [String: String] = [:]
        for (name, item) in o {
            guard case let .string(s) = item else { throw TriggerConfigError("'\(key).\(name)' must be a string", field: "settings.\(key).\(name)") }
            result[name] = s
        }
        return result
    }

    func finish() throws(TriggerConfigError) {
        if let unknown = object.keys.sorted().first(where: { !seen.contains($0) }) {
            throw TriggerConfigError("unknown_key", "unknown setting '\(unknown)'; this kind accepts: \(seen.sorted().joined(separator: ", "))", field: "settings.\(unknown)")
        }
    }
}
