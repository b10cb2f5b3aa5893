import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing
@testable import NodesMail

/// email.send end to end: through a real Postfix (STARTTLS and implicit TLS, logins checked by Dovecot) into
/// Dovecot mailboxes, read back over IMAP and parsed.
@Suite struct EmailSendTests {
    let dir: TemporaryDirectory
    let sender: MailTestServer.Account
    let server: MailTestServer.Server

    init() throws {
        dir = try TemporaryDirectory()
        server = try MailTestServer.server
        sender = try MailTestServer.makeAccount(password: "pä ss\"word")
    }

    /// The connections file: `mail` (STARTTLS on the submission port), `mails` (implicit TLS), `wrong` (a bad password).
    func harness() throws -> PipelineHarness {
        let common = "host: 127.0.0.1, user: \(sender.user), ca_file: \(server.certificatePath), from: 'Sluice Berichte <\(sender.address)>'"
        return try PipelineHarness(directory: dir, connectionsYAML: """
        mail: {type: smtp, port: \(server.smtpPort), security: starttls, password: '\(sender.password)', \(common)}
        mails: {type: smtp, port: \(server.smtpsPort), security: tls, password: '\(sender.password)', \(common)}
        wrong: {type: smtp, port: \(server.smtpPort), security: starttls, password: 'not-it', \(common)}
        """)
    }

    /// The messages in `account`'s INBOX once `count` have arrived (Postfix delivers in the background), parsed.
    func inbox(_ account: MailTestServer.Account, count: Int) async throws -> [(message: MailMessage, raw: String)] {
        let catalog = try ConnectionsFile.parse("in: {type: imap, host: 127.0.0.1, port: \(server.imapPort), security: none, user: \(account.user), password: '\(account.password)'}",
                                                file: nil, specs: [IMAPConnector.spec], environment: [:])
        let endpoint = try IMAPEndpoint(#require(catalog.connections["in"]))
        let deadline = Date().addingTimeInterval(15)
        while true {
            let bodies = try await IMAPClient.withSession(endpoint) { session in
                _ = try await session.examine("INBOX")
                return try await session.uidFetch(try await session.uidSearch(["ALL"]), items: "UID BODY.PEEK[]").compactMap(\.body)
            }
            if bodies.count >= count || Date() > deadline { return bodies.map { (MailMessage($0), String(decoding: $0, as: UTF8.self)) } }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test func aRunMessageWithTextHTMLAndTheRowsAttachedOverSTARTTLS() async throws {
        let reader = try MailTestServer.makeAccount()
        let copy = try MailTestServer.makeAccount()
        try dir.write("in.csv", "region,total,note\nnorth,120,\"a, b\"\nsüd,80,.starts with a dot\n")
        let run = try await harness().run("""
        apiVersion: sluice/v1
        name: totals
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: report, type: email.send, settings: {connection: mail, to: ["\(reader.address)"], bcc: ["\(copy.address)"],
              subject: "Tägliche Summen für {{run.pipeline}} ({{run.rows}} Zeilen) — ein recht langer Betreff, der gefaltet werden muss",
              text: "Hallo,\\n.the dot line stays\\n{{run.rows}} rows attached.", html: "<p>{{run.rows}} rows for <b>{{run.pipeline}}</b></p>", attach: csv}}
        edges:
          - {from: src.out, to: report.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let received = try await inbox(reader, count: 1)
        try #require(received.count == 1)
        let mail = received[0].message
        #expect(mail.subject == "Tägliche Summen für totals (2 Zeilen) — ein recht langer Betreff, der gefaltet werden muss")
        #expect(received[0].raw.contains("Subject:\r\n =?UTF-8?B?"), "the subject is sent as encoded words, folded")
        #expect(mail.from == "Sluice Berichte <\(sender.address)>")
        #expect(mail.to == reader.address)
        #expect(mail.header("Bcc") == nil && !received[0].raw.contains(copy.address), "bcc is never a header")
        #expect(mail.text == "Hallo,\r\n.the dot line stays\r\n2 rows attached." || mail.text == "Hallo,\n.the dot line stays\n2 rows attached.", "\(mail.text ?? "")")
        #expect(mail.html == "<p>2 rows for <b>totals</b></p>")
        #expect(mail.attachments.map(\.fileName) == ["report.csv"])
        #expect(String(decoding: mail.attachments.first?.bytes ?? [], as: UTF8.self) == "region,total,note\r\nnorth,120,\"a, b\"\r\nsüd,80,.starts with a dot\r\n")
        #expect(try await inbox(copy, count: 1).count == 1, "the bcc recipient got it too")
        #expect(run.events.messages.contains { $0.contains("sent 'Tägliche") && $0.contains("to 2 recipient(s)") }, "\(run.events.messages)")
    }

    @Test func perRowMessagesOverImplicitTLSRejectInvalidAndRefusedAddresses() async throws {
        let ann = try MailTestServer.makeAccount()
        let bob = try MailTestServer.makeAccount()
        try dir.write("in.csv", "name,email,amount\nAnn,\(ann.address),12.5\nNobody,nobody-\(UUID().uuidString.prefix(6))@sluice.test,1\nBad,not-an-address,2\nBob,\(bob.address),7.25\nFar,someone@elsewhere.example,3\n")
        let run = try await harness().run("""
        apiVersion: sluice/v1
        name: invoices
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: mail, type: email.send, settings: {connection: mails, mode: row, to: ["{{name}} <{{email}}>"], subject: "Your invoice: {{amount}} €", text: "Dear {{name}}, you owe {{amount}}."}}
        edges:
          - {from: src.out, to: mail.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let annMail = try await inbox(ann, count: 1)
        #expect(annMail.map(\.message.subject) == ["Your invoice: 12.5 €"])
        #expect(annMail.first?.message.text?.trimmingCharacters(in: .newlines) == "Dear Ann, you owe 12.5.")
        #expect(annMail.first?.message.to == "Ann <\(ann.address)>" || annMail.first?.message.to == ann.address, "\(annMail.first?.message.to ?? "")")
        #expect(try await inbox(bob, count: 1).map(\.message.subject) == ["Your invoice: 7.25 €"])
        let rejects = run.rejects.map(\.record)
        #expect(rejects.map(\.code) == ["smtp_refused", "invalid_address", "smtp_refused"], "\(rejects.map(\.message))")
        #expect(rejects.first?.message.contains("550") == true && rejects.first?.message.contains("User unknown") == true, "\(rejects.first?.message ?? "")")
        #expect(rejects.last?.message.contains("Relay access denied") == true)
        #expect(rejects.first?.row == 1 && rejects.last?.row == 4)
    }

    @Test func aWrongPasswordFailsTheNodeWithTheServersReplyAndNoPassword() async throws {
        let reader = try MailTestServer.makeAccount()
        let run = try await harness().run("""
        apiVersion: sluice/v1
        name: ping
        nodes:
          - {id: note, type: email.send, settings: {connection: wrong, to: ["\(reader.address)"], subject: "hello", text: "hi"}}
        """)
        #expect(run.summary.status == .failed)
        let error = run.summary.error ?? ""
        #expect(error.contains("refused the login") && error.contains("535") && error.contains(sender.user), "\(error)")
        #expect(!error.contains("not-it"))
    }

    @Test func withoutABodyTheMessageSummarisesTheInput() async throws {
        let reader = try MailTestServer.makeAccount()
        try dir.write("in.csv", "id\n1\n2\n3\n")
        let run = try await harness().run("""
        apiVersion: sluice/v1
        name: counts
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: note, type: email.send, settings: {connection: mail, to: ["\(reader.address)"], subject: "counts"}}
        edges:
          - {from: src.out, to: note.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let text = try await inbox(reader, count: 1).first?.message.text ?? ""
        #expect(text.hasPrefix("3 row(s) from pipeline counts, run "), "\(text)")
    }

    @Test func theConnectionTestSaysHelloOverTLSAndLogsIn() async throws {
        let catalog = try ConnectionsFile.parse("""
        m: {type: smtp, host: 127.0.0.1, port: \(server.smtpsPort), security: tls, user: \(sender.user), password: '\(sender.password)', ca_file: \(server.certificatePath), from: \(sender.address)}
        u: {type: smtp, host: 127.0.0.1, port: \(server.smtpsPort), security: tls, user: \(sender.user), password: '\(sender.password)', from: \(sender.address)}
        """, file: nil, specs: [SMTPConnector.spec], environment: [:])
        let result = try await SMTPConnector.check(try #require(catalog.connections["m"]))
        #expect(result.message.hasPrefix("logged in to SMTP server 127.0.0.1:\(server.smtpsPort) (tls), user \(sender.user)"), "\(result.message)")
        #expect(result.message.contains("PIPELINING"))
        await #expect(throws: NodeError.self, "an untrusted certificate is refused") { try await SMTPConnector.check(try #require(catalog.connections["u"])) }
    }

    @Test func emailRunNotificationsArrive() async throws {
        let reader = try MailTestServer.makeAccount()
        let catalog = try ConnectionsFile.parse("""
        m: {type: smtp, host: 127.0.0.1, port: \(server.smtpPort), user: \(sender.user), password: '\(sender.password)', ca_file: \(server.certificatePath), from: \(sender.address)}
        """, file: nil, specs: [SMTPConnector.spec], environment: [:])
        let message = RunMessage(pipeline: "nightly", runID: "r-1", status: "failed", error: "node 'load': disk full", durationSeconds: 2.5,
                                 recordsRead: 1200, rejected: 3, link: "http://sluice.example/runs/r-1")
        let notifier = RunNotifier(connectors: ConnectorRegistry([SMTPConnector.self]))
        let lines = await notifier.deliver(message, for: [RunNotification(on: [.failed], via: "email", connection: "m", to: [reader.address])], succeeded: false) { name in
            try #require(catalog.connections[name])
        }
        #expect(lines.map(\.message) == ["email notification through 'm' sent"])
        let received = try await inbox(reader, count: 1)
        #expect(received.first?.message.subject == "✗ nightly failed")
        let text = received.first?.message.text ?? ""
        #expect(text.contains("disk full") && text.contains("1200 record(s) read, 3 rejected") && text.contains("http://sluice.example/runs/r-1"), "\(text)")
    }
}
