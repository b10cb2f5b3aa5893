import Foundation
import NodesMail
import Store

/// `imap`: new mail in a mailbox, found by UID. State is `{uidvalidity, last_uid}`: the mailbox's UID validity and
/// the highest UID already handled. Each matching message is one event whose state commit moves `last_uid` to
/// its UID, so a crash between two messages neither loses nor repeats one. Messages that do not match the
/// filters are passed over (the state moves past them). When UIDVALIDITY changes (the mailbox was recreated and
/// its UIDs renumbered), the trigger starts again from the mailbox's current end and records why.
enum IMAPPoll {
    /// Every event field, typed (for checking rules when a trigger is saved).
    static let sampleFields: [String: JSONValue] = [
        "uid": .int(0), "uidvalidity": .int(0), "mailbox": .string(""), "message_id": .string(""), "from": .string(""), "from_address": .string(""),
        "to": .string(""), "cc": .string(""), "subject": .string(""), "date": .string(""), "received_at": .string(""), "size": .int(0),
        "has_attachment": .bool(false), "attachment_count": .int(0), "attachments": .array([]), "attachment_dir": .string(""),
        "body": .string(""), "too_large": .bool(false),
    ]

    /// The body text an event carries at most (the whole message is never put in an event).
    static let bodyLimit = 65_536

    static func poll(_ settings: IMAPTriggerSettings, triggerID: String, state: JSONValue, probes: TriggerProbes) async throws -> PollResult {
        let endpoint = try await probes.imapEndpoint(settings.connection)
        let directory = try settings.attachmentsDirectory.map { try probes.directory($0, field: "settings.attachments_directory") }
            .map { $0 + "/" + triggerID } ?? probes.filesDirectory + "/imap/" + triggerID
        return try await IMAPClient.withSession(endpoint, maxLiteral: settings.maxMessageBytes + 65_536) { session in
            let mailbox = try await session.examine(settings.mailbox)
            let validity = Int64(mailbox.uidValidity)
            // The highest UID in the mailbox now (UIDNEXT - 1; servers without UIDNEXT are searched).
            let end: Int64
            if let next = mailbox.uidNext { end = Int64(next) - 1 } else { end = Int64(try await session.uidSearch(["ALL"]).last ?? 0) }
            var result = PollResult()
            var last: Int64
            let known = state["uidvalidity"]?.intValue
            if known == nil {
                guard settings.includeExisting else {
                    return PollResult(quietState: .object(["uidvalidity": .int(validity), "last_uid": .int(end)]))
                }
                last = 0
            } else if known != validity {
                let detail = "mailbox '\(settings.mailbox)' changed UIDVALIDITY from \(known!) to \(validity) (it was recreated or renumbered); "
                    + "the \(mailbox.exists) message(s) in it were not fired, new mail fires from here"
                let event = TriggerEvent(["mailbox": .string(settings.mailbox), "old_uidvalidity": .int(known!), "uidvalidity": .int(validity)])
                result.notice = ("skipped", detail, event, .object(["uidvalidity": .int(validity), "last_uid": .int(end)]))
                return result
            } else {
                last = state["last_uid"]?.intValue ?? 0
            }
            var criteria: [IMAPArgument] = ["UID", .atom("\(last + 1):*")]
            if let from = settings.from { criteria += ["FROM", .string(from)] }
            if let to = settings.to { criteria += ["TO", .string(to)] }
            if let subject = settings.subject { criteria += ["SUBJECT", .string(subject)] }
            // "N:*" always includes the highest UID, even below N: keep only UIDs after the last one handled.
            let matching = try await session.uidSearch(criteria).filter { Int64($0) > last }
            let batch = Array(matching.prefix(settings.maxMessagesPerPoll))
            let sizes = Dictionary(try await session.uidFetch(batch, items: "UID RFC822.SIZE INTERNALDATE").compactMap { fetch in
                fetch.uid.map { ($0, (size: fetch.size ?? 0, received: fetch.internalDate)) }
            }, uniquingKeysWith: { first, _ in first })
            for uid in batch {
                guard let info = sizes[uid] else { continue } // expunged since the search
                let tooLarge = info.size > settings.maxMessageBytes
                let fetched = try await session.uidFetch([uid], items: tooLarge ? "UID BODY.PEEK[HEADER]" : "UID BODY.PEEK[]")
                guard let fetch = fetched.first(where: { $0.uid == uid }),
                      let bytes = fetch.body ?? fetch.attributes["BODY[HEADER]"]?.bytes else { continue }
                let message = MailMessage(bytes)
                last = Int64(uid)
                let state: JSONValue = .object(["uidvalidity": .int(validity), "last_uid": .int(last)])
                if let wanted = settings.hasAttachment, wanted != !message.attachments.isEmpty {
                    result.advance(to: state)
                    continue
                }
                let folder = directory + "/\(validity)-\(uid)"
                let attachments = try save(message.attachments, in: folder)
                let event = Self.event(message, uid: uid, validity: validity, mailbox: settings.mailbox, size: info.size, received: info.received,
                                       tooLarge: tooLarge, attachments: attachments, folder: attachments.isEmpty ? "" : folder)
                result.events.append((event, state))
                result.quietState = nil
            }
            // Past the messages that did not match, unless some matching ones wait for the next poll.
            if matching.count <= batch.count, end > last {
                result.advance(to: .object(["uidvalidity": .int(validity), "last_uid": .int(end)]))
            }
            return result
        }
    }

    static func event(_ message: MailMessage, uid: UInt32, validity: Int64, mailbox: String, size: Int, received: String?, tooLarge: Bool,
                      attachments: [JSONValue], folder: String) -> TriggerEvent {
        var body = message.bodyText
        if body.utf8.count > bodyLimit { body = String(decoding: body.utf8.prefix(bodyLimit), as: UTF8.self) }
        return TriggerEvent([
            "uid": .int(Int64(uid)), "uidvalidity": .int(validity), "mailbox": .string(mailbox), "message_id": .string(message.messageID),
            "from": .string(message.from), "from_address": .string(MailMessage.addresses(message.from).first ?? ""),
            "to": .string(message.to), "cc": .string(message.cc), "subject": .string(message.subject),
            "date": message.date.map(JSONValue.string) ?? .null, "received_at": received.flatMap(internalDate).map(JSONValue.string) ?? .null,
            "size": .int(Int64(size)), "has_attachment": .bool(!attachments.isEmpty), "attachment_count": .int(Int64(attachments.count)),
            "attachments": .array(attachments), "attachment_dir": .string(folder), "body": .string(tooLarge ? "" : body), "too_large": .bool(tooLarge),
        ])
    }

    /// Writes attachments into `folder` with safe, unique file names; returns their event entries.
    static func save(_ attachments: [MailMessage.Attachment], in folder: String) throws -> [JSONValue] {
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

    /// IMAP's INTERNALDATE (`17-Jul-1996 02:44:25 -0700`) as ISO-8601 in UTC.
    static func internalDate(_ text: String) -> String? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "d-MMM-yyyy HH:mm:ss Z"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces)).map { ISO8601DateFormatter().string(from: $0) }
    }
}

extension PollResult {
    /// Moves the state saved by this poll on: with the last event when there are events, else as quiet state.
    mutating func advance(to state: JSONValue) {
        if events.isEmpty { quietState = state } else { events[events.count - 1].state = state }
    }
}
