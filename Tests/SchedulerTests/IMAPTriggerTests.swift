import Foundation
import NodeKit
import NodesMail
@testable import Scheduler
import SluiceTestSupport
import Store
import Testing

/// Mailbox triggers against a real Dovecot: new mail fires once per message, filters and rules decide which,
/// attachments become files for the run, and the last UID (with UIDVALIDITY) is the state.
@Suite(.serialized)
struct IMAPTriggerTests {
    static func fixture(_ mailbox: DovecotTestServer.Mailbox) async throws -> SchedulerFixture {
        let yaml = try "mail: {type: imap, host: 127.0.0.1, port: \(DovecotTestServer.server.plainPort), security: none, user: \(mailbox.user), password: '\(mailbox.password)'}"
        let connection = try #require(try ConnectionsFile.parse(yaml, file: nil, specs: [IMAPConnector.spec], environment: [:]).connections["mail"])
        return try await SchedulerFixture.make(connections: [connection])
    }

    static func mail(from: String, subject: String, attachment: (name: String, text: String)? = nil) -> String {
        guard let attachment else { return "From: \(from)\nTo: ap@example.com\nSubject: \(subject)\nDate: Sun, 01 Mar 2026 09:00:00 +0000\n\nPlease see below.\n" }
        let encoded = Data(attachment.text.utf8).base64EncodedString()
        return """
            From: \(from)
            To: ap@example.com
            Subject: \(subject)
            Date: Sun, 01 Mar 2026 09:00:00 +0000
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            --b1
            Content-Type: text/plain; charset=utf-8

            Invoice attached.
            --b1
            Content-Type: text/csv; name="\(attachment.name)"
            Content-Disposition: attachment; filename="\(attachment.name)"
            Content-Transfer-Encoding: base64

            \(encoded)
            --b1--

            """
    }

    @Test(.timeLimit(.minutes(1)))
    func newMatchingMailFiresOnceWithItsAttachmentsAsFiles() async throws {
        let mailbox = try DovecotTestServer.makeMailbox()
        let f = try await Self.fixture(mailbox)
        defer { Task { await f.close() } }
        try mailbox.deliver(Self.mail(from: "billing@example.com", subject: "Invoice 1 (old)", attachment: ("old.csv", "id\n1\n")))
        let trigger = try await f.trigger("""
            {"name": "invoices", "kind": "imap", "rule": "subject ILIKE '%invoice%'",
             "settings": {"connection": "mail", "from": "billing@", "hasAttachment": true, "pollEvery": "1s"}}
            """, parameters: ["file": "${event.attachments.0.path}", "sender": "${event.from_address}"])
        #expect(await f.scheduler.tick().isEmpty, "the first poll starts after the mail already there")
        #expect(JSONValue.parse(try #require(try await f.store.trigger(id: trigger.id)).stateJSON)?["last_uid"] == .int(1))

        try mailbox.deliver(Self.mail(from: "Billing <billing@example.com>", subject: "Invoice 2", attachment: ("inv-2.csv", "id,amount\n2,20.00\n")))
        try mailbox.deliver(Self.mail(from: "someone@else.org", subject: "Invoice from a stranger", attachment: ("x.csv", "x\n")))
        try mailbox.deliver(Self.mail(from: "billing@example.com", subject: "Invoice 3, no file"))
        try mailbox.deliver(Self.mail(from: "billing@example.com", subject: "Newsletter", attachment: ("news.csv", "n\n")))
        f.clock.advance(seconds: 2)
        let firings = await f.scheduler.tick()
        #expect(firings.map(\.outcome) == ["fired", "filtered"], "\(firings)")
        let firstFiring = try #require(firings.first)
        let event = try #require(JSONValue.parse(firstFiring.eventJSON))
        #expect(event["uid"] == .int(2) && event["subject"] == .string("Invoice 2") && event["from_address"] == .string("billing@example.com"))
        #expect(event["has_attachment"] == .bool(true) && event["attachment_count"] == .int(1) && event["date"] == .string("2026-03-01T09:00:00Z"))
        #expect(event["body"] == .string("Invoice attached."))
        let path = try #require(TriggerEvent(event.objectValue).value(at: "attachments.0.path")?.stringValue)
        #expect(path.hasSuffix("/inv-2.csv") && path.hasPrefix(f.directory.path + "/files/imap/\(trigger.id)/"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "id,amount\n2,20.00\n")
        let runID = try #require(firstFiring.runIDs.first)
        let run = try #require(try await f.store.run(id: runID))
        #expect(run.parametersJSON == JSONValue.object(["file": .string(path), "sender": .string("billing@example.com")]).text)
        // The newsletter was filtered by the rule: no run, and its attachment folder is gone.
        let filtered = try #require(JSONValue.parse(firings[1].eventJSON))
        #expect(filtered["subject"] == .string("Newsletter") && firings[1].runIDs.isEmpty)
        let filteredFolder = try #require(filtered["attachment_dir"]?.stringValue)
        #expect(!filteredFolder.isEmpty && !FileManager.default.fileExists(atPath: filteredFolder))
        #expect(JSONValue.parse(try #require(try await f.store.trigger(id: trigger.id)).stateJSON)?["last_uid"] == .int(5))

        f.clock.advance(seconds: 2)
        #expect(await f.scheduler.tick().isEmpty, "a message never fires twice")
        try mailbox.deliver(Self.mail(from: "billing@example.com", subject: "invoice 6", attachment: ("inv-6.csv", "id\n6\n")))
        f.clock.advance(seconds: 2)
        let next = await f.scheduler.tick()
        #expect(next.map(\.outcome) == ["fired"] && JSONValue.parse(next.first?.eventJSON ?? "")?["uid"] == .int(6), "\(next)")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRecreatedMailboxRestartsFromItsEndAndSaysSo() async throws {
        let mailbox = try DovecotTestServer.makeMailbox()
        let f = try await Self.fixture(mailbox)
        defer { Task { await f.close() } }
        try mailbox.deliver(Self.mail(from: "a@example.com", subject: "one"))
        let trigger = try await f.trigger(#"{"name": "all-mail", "kind": "imap", "settings": {"connection": "mail", "pollEvery": "1s", "start": "all"}}"#)
        let first = await f.scheduler.tick()
        #expect(first.map(\.outcome) == ["fired"], "start: all fires for the mail already there")
        let validity = JSONValue.parse(try #require(try await f.store.trigger(id: trigger.id)).stateJSON)?["uidvalidity"]?.intValue

        // Dovecot's index and UID list gone: the mailbox gets the next UIDVALIDITY and renumbers its mail.
        for name in try FileManager.default.contentsOfDirectory(atPath: mailbox.maildir) where name == "dovecot-uidlist" || name.hasPrefix("dovecot.index") {
            try FileManager.default.removeItem(atPath: mailbox.maildir + "/" + name)
        }
        try mailbox.deliver(Self.mail(from: "a@example.com", subject: "two"))
        f.clock.advance(seconds: 2)
        let reset = await f.scheduler.tick()
        #expect(reset.map(\.outcome) == ["skipped"], "\(reset)")
        #expect(reset.first?.detail?.contains("UIDVALIDITY") == true)
        let state = JSONValue.parse(try #require(try await f.store.trigger(id: trigger.id)).stateJSON)
        #expect(state?["uidvalidity"]?.intValue != validity && state?["last_uid"] == .int(2))

        try mailbox.deliver(Self.mail(from: "a@example.com", subject: "three"))
        f.clock.advance(seconds: 2)
        let after = await f.scheduler.tick()
        #expect(after.map { JSONValue.parse($0.eventJSON)?["subject"]?.stringValue } == ["three"], "\(after)")
    }

    @Test func settingsAreCheckedWithTheirField() throws {
        #expect(throws: TriggerConfigError.self) { try TriggerDefinition.parse(JSONValue.parse(#"{"name": "x", "kind": "imap", "settings": {}}"#)!, readsLinks: true) }
        do {
            _ = try TriggerDefinition.parse(JSONValue.parse(#"{"name": "x", "kind": "imap", "settings": {"connection": "m", "has_attachments": true}}"#)!, readsLinks: true)
            Issue.record("accepted an unknown setting")
        } catch { #expect(error.field == "settings.has_attachments") }
        do {
            _ = try TriggerDefinition.parse(JSONValue.parse(#"{"name": "x", "kind": "imap", "rule": "attachment_count > 'x' AND nope", "settings": {"connection": "m"}}"#)!, readsLinks: true)
            Issue.record("accepted a rule with an unknown field")
        } catch { #expect(error.field == "rule") }
        #expect(MailboxPoll.safeFileName("../../etc/passwd", fallback: "f") == "passwd")
        #expect(MailboxPoll.safeFileName("..hidden\u{1}", fallback: "f") == "hidden")
        #expect(MailboxPoll.safeFileName("///", fallback: "f") == "f")
    }
}
