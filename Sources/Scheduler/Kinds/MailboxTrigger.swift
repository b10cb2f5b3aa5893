import Foundation
public import NodeKit
public import Store

/// `imap`: new mail in a mailbox, polled by UID; `from`, `to` and `subject` are SEARCH filters on the server
/// (case-insensitive substrings), `hasAttachment` is checked on the fetched message.
public struct MailboxTrigger: TriggerKind {
    enum Start: String, Choice { case new, all }

    static let connection = Field<ConnectionName>("connection", summary: "A mail connection whose connector watches mailboxes.", example: "mail")
    static let mailbox = Field<String>("mailbox", summary: "Mailbox to watch.", default: "INBOX")
    static let from = Field<String?>("from", summary: "Only mail whose From contains this text.")
    static let to = Field<String?>("to", summary: "Only mail whose To contains this text.")
    static let subject = Field<String?>("subject", summary: "Only mail whose Subject contains this text.", example: "invoice")
    static let hasAttachment = Field<Bool?>("hasAttachment", summary: "Only mail with (true) or without (false) attachments.")
    static let pollEvery = Field<Duration>("pollEvery", summary: "How often to check (30s, 15m, 2h).", default: .seconds(60))
    static let start = Field<Start>("start", summary: "new: only mail arriving later; all: also the mail already there.", default: .new)
    static let maxMessagesPerPoll = Field<Int>("maxMessagesPerPoll", summary: "At most this many messages per poll (1–1000).", default: 50)
    static let maxMessageBytes = Field<Int>("maxMessageBytes", summary: "Larger messages fire with their headers only.", default: 25 << 20)
    static let attachmentsDirectory = Field<FilePath?>("attachmentsDirectory", summary: "Where attachments are saved (default: the workspace's trigger-files/imap).")

    public static let name = "imap"
    public static let summary = "When new mail arrives in a mailbox."
    public static let fields = [connection.spec, mailbox.spec, from.spec, to.spec, subject.spec, hasAttachment.spec, pollEvery.spec, start.spec,
                                maxMessagesPerPoll.spec, maxMessageBytes.spec, attachmentsDirectory.spec]
    public static let sampleEvent: TriggerEvent? = TriggerEvent(MailboxPoll.sampleFields)

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

    public init(_ settings: Settings) throws(ConfigError) {
        connection = try settings[Self.connection].name
        mailbox = try settings[Self.mailbox]
        from = try settings[Self.from]
        to = try settings[Self.to]
        subject = try settings[Self.subject]
        hasAttachment = try settings[Self.hasAttachment]
        pollMillis = try settings.millis(Self.pollEvery)
        includeExisting = try settings[Self.start] == .all
        maxMessagesPerPoll = try settings.int(Self.maxMessagesPerPoll, in: 1...1000)
        maxMessageBytes = try settings.int(Self.maxMessageBytes, in: 1024...(1 << 30))
        attachmentsDirectory = try settings[Self.attachmentsDirectory]?.path
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        let result = try await MailboxPoll.poll(self, triggerID: trigger.id, state: state, probes: scheduler.probes)
        // On an error, attachments stay: some events may have queued runs that need them.
        let fired = try await scheduler.apply(result, trigger, definition)
        MailboxPoll.removeUnusedAttachments(result, firings: fired)
        return fired
    }
}


/// `imap`: new mail in a mailbox, found by UID. State is `{uidvalidity, last_uid}`: the mailbox's UID validity and
/// the highest UID already handled. Each matching message is one event whose state commit moves `last_uid` to
/// its UID, so a crash between two messages neither loses nor repeats one. Messages that do not match the
/// filters are passed over (the state moves past them). When UIDVALIDITY changes (the mailbox was recreated and
/// its UIDs renumbered), the trigger starts again from the mailbox's current end and records why.
enum MailboxPoll {
    /// Every event field, typed (for checking rules when a trigger is saved).
    static let sampleFields: [String: JSONValue] = [
        "uid": .int(0), "uidvalidity": .int(0), "mailbox": .string(""), "message_id": .string(""), "from": .string(""), "from_address": .string(""),
        "to": .string(""), "cc": .string(""), "subject": .string(""), "date": .string(""), "received_at": .string(""), "size": .int(0),
        "has_attachment": .bool(false), "attachment_count": .int(0), "attachments": .array([]), "attachment_dir": .string(""),
        "body": .string(""), "too_large": .bool(false),
    ]

    /// The body text an event carries at most (the whole message is never put in an event).
    static let bodyLimit = 65_536

    static func poll(_ settings: MailboxTrigger, triggerID: String, state: JSONValue, probes: TriggerProbes) async throws -> PollResult {
        let (connection, mailbox) = try await probes.connection(settings.connection, offering: (any MailboxWatching.Type).self, for: "mailbox triggers")
        let directory = try settings.attachmentsDirectory.map { try probes.directory($0, field: "settings.attachmentsDirectory") }
            .map { $0 + "/" + triggerID } ?? probes.filesDirectory + "/imap/" + triggerID
        let known = state["uidvalidity"]?.intValue
        // The first look reads nothing unless existing mail should fire; later looks read after the last UID handled.
        let after: Int64? = known == nil ? (settings.includeExisting ? 0 : nil) : state["last_uid"]?.intValue ?? 0
        let scan = try await mailbox.scan(connection, MailboxScanRequest(
            mailbox: settings.mailbox, from: settings.from, to: settings.to, subject: settings.subject, uidValidity: known, afterUID: after,
            maxMessages: settings.maxMessagesPerPoll, maxMessageBytes: settings.maxMessageBytes))
        let validity = scan.uidValidity
        var result = PollResult()
        guard let after else {
            return PollResult(quietState: .object(["uidvalidity": .int(validity), "last_uid": .int(scan.lastUID)]))
        }
        if let known, known != validity {
            let detail = "mailbox '\(settings.mailbox)' changed UIDVALIDITY from \(known) to \(validity) (it was recreated or renumbered); "
                + "the \(scan.exists) message(s) in it were not fired, new mail fires from here"
            let event = TriggerEvent(["mailbox": .string(settings.mailbox), "old_uidvalidity": .int(known), "uidvalidity": .int(validity)])
            result.notice = ("skipped", detail, event, .object(["uidvalidity": .int(validity), "last_uid": .int(scan.lastUID)]))
            return result
        }
        var last = after
        for message in scan.messages {
            last = message.uid
            let state: JSONValue = .object(["uidvalidity": .int(validity), "last_uid": .int(last)])
            if let wanted = settings.hasAttachment, wanted != !message.attachments.isEmpty {
                result.advance(to: state)
                continue
            }
            let folder = directory + "/\(validity)-\(message.uid)"
            let attachments = try save(message.attachments, in: folder)
            result.events.append((Self.event(message, validity: validity, mailbox: settings.mailbox, attachments: attachments,
                                             folder: attachments.isEmpty ? "" : folder), state))
            result.quietState = nil
        }
        // Past the messages that did not match, unless some matching ones wait for the next poll.
        if !scan.moreWaiting, scan.lastUID > last {
            result.advance(to: .object(["uidvalidity": .int(validity), "last_uid": .int(scan.lastUID)]))
        }
        return result
    }

    static func event(_ message: MailboxMessage, validity: Int64, mailbox: String, attachments: [JSONValue], folder: String) -> TriggerEvent {
        var body = message.body
        if body.utf8.count > bodyLimit { body = String(decoding: body.utf8.prefix(bodyLimit), as: UTF8.self) }
        return TriggerEvent([
            "uid": .int(message.uid), "uidvalidity": .int(validity), "mailbox": .string(mailbox), "message_id": .string(message.messageID),
            "from": .string(message.from), "from_address": .string(message.fromAddress),
            "to": .string(message.to), "cc": .string(message.cc), "subject": .string(message.subject),
            "date": message.date.map(JSONValue.string) ?? .null, "received_at": message.receivedAt.map(JSONValue.string) ?? .null,
            "size": .int(Int64(message.size)), "has_attachment": .bool(!attachments.isEmpty), "attachment_count": .int(Int64(attachments.count)),
            "attachments": .array(attachments), "attachment_dir": .string(folder), "body": .string(message.tooLarge ? "" : body), "too_large": .bool(message.tooLarge),
        ])
    }

    /// Writes attachments into `folder` with safe, unique file names; returns their event entries.
    static func save(_ attachments: [MailboxMessage.Attachment], in folder: String) throws -> [JSONValue] {
        guard !attachments.isEmpty else { return [] }
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var used: Set<String> = [], entries: [JSONValue] = []
        for (index, attachment) in attachments.enumerated() {
            var name = safeFileName(attachment.fileName, fallback: "attachment-\(index + 1)")
            if used.contains(name) {
                let stem = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
                var n = 2
                while used.contains(name) { name = "\(stem)-\(n)" + (ext.isEmpty ? "" : ".\(ext)"); n += 1 }
            }
            used.insert(name)
            let path = folder + "/" + name
            try Data(attachment.bytes).write(to: URL(fileURLWithPath: path))
            entries.append(.object(["name": .string(name), "path": .string(path), "size": .int(Int64(attachment.bytes.count)),
                                    "content_type": .string(attachment.contentType)]))
        }
        return entries
    }

    /// A sender's file name made safe for the file system: no directories, control characters or leading dots.
    static func safeFileName(_ name: String, fallback: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String(last.unicodeScalars.filter { $0.value >= 32 && $0 != "\u{7f}" && $0 != ":" }.map(Character.init))
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        cleaned = cleaned.trimmingCharacters(in: .whitespaces)
        if cleaned.utf8.count > 200 { cleaned = String(cleaned.prefix(150)) }
        return cleaned.isEmpty ? fallback : cleaned
    }

    /// Deletes the attachment folders of events that queued no run (filtered, skipped, or not recorded).
    static func removeUnusedAttachments(_ result: PollResult, firings: [TriggerFiring]) {
        let used = Set(firings.filter { !$0.runIDs.isEmpty }.compactMap { JSONValue.parse($0.eventJSON)?["attachment_dir"]?.stringValue })
        for (event, _) in result.events {
            guard let folder = event.fields["attachment_dir"]?.stringValue, !folder.isEmpty, !used.contains(folder) else { continue }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}

extension PollResult {
    /// Moves the state saved by this poll on: with the last event when there are events, else as quiet state.
    mutating func advance(to state: JSONValue) {
        if events.isEmpty { quietState = state } else { events[events.count - 1].state = state }
    }
}
