import NodeKit
import SluiceTestSupport
import Testing
@testable import NodesMail

/// The IMAP client against a real Dovecot started by the harness (plain and TLS ports).
@Suite struct IMAPClientTests {
    static func endpoint(_ mailbox: DovecotTestServer.Mailbox, tls: Bool = false, trustsTestCertificate: Bool = true,
                         password: String? = nil) throws -> IMAPEndpoint {
        let server = try DovecotTestServer.server
        let caFile = trustsTestCertificate ? try DovecotTestServer.certificatePath : nil
        var yaml = "mail: {type: imap, host: 127.0.0.1, port: \(tls ? server.tlsPort : server.plainPort), security: \(tls ? "tls" : "none"), user: \(mailbox.user), password: '\(password ?? mailbox.password)'"
        if tls, let caFile { yaml += ", ca_file: \(caFile)" }
        yaml += "}"
        let catalog = try ConnectionsFile.parse(yaml, file: nil, specs: [IMAPConnector.spec], environment: [:])
        return try IMAPEndpoint(#require(catalog.connections["mail"]))
    }

    @Test func logsInSearchesAndFetchesNewMail() async throws {
        let mailbox = try DovecotTestServer.makeMailbox()
        try mailbox.deliver("From: ann@example.com\nSubject: first\n\none")
        try mailbox.deliver("From: bob@example.com\nSubject: Invoice 7\n\ntwo")
        try mailbox.deliver("From: ann@example.com\nSubject: invoice 8 für Juli\n\nthree")
        let result = try await IMAPClient.withSession(try Self.endpoint(mailbox)) { session in
            let status = try await session.examine("INBOX")
            let all = try await session.uidSearch(["UID", "1:*"])
            let invoices = try await session.uidSearch(["UID", "2:*", "SUBJECT", .string("invoice")])
            let fromAnnUmlaut = try await session.uidSearch(["FROM", .string("ann"), "SUBJECT", .string("für")])
            let fetched = try await session.uidFetch(invoices, items: "UID RFC822.SIZE BODY.PEEK[]")
            return (status, all, invoices, fromAnnUmlaut, fetched)
        }
        #expect(result.0.exists == 3)
        #expect(result.0.uidNext == 4)
        #expect(result.0.uidValidity > 0)
        #expect(result.1 == [1, 2, 3])
        #expect(result.2 == [2, 3])
        #expect(result.3 == [3])
        #expect(result.4.map(\.uid) == [2, 3])
        let second = MailMessage(try #require(result.4.first?.body))
        #expect(second.subject == "Invoice 7")
        #expect(second.text == "two")
        #expect(result.4.first?.size == result.4.first?.body?.count)
    }

    @Test func aWrongPasswordIsALoginErrorWithoutThePassword() async throws {
        let mailbox = try DovecotTestServer.makeMailbox()
        do {
            try await IMAPClient.withSession(try Self.endpoint(mailbox, password: "not-it")) { _ in }
            Issue.record("logged in with a wrong password")
        } catch let error as NodeError {
            #expect(error.code == "login_failed")
            #expect(try error.message.contains("127.0.0.1:\(DovecotTestServer.server.plainPort)"))
            #expect(error.message.contains(mailbox.user))
            #expect(!"\(error)".contains("not-it"))
        }
    }

    @Test func tlsWithTheServersCertificateTrusted() async throws {
        let mailbox = try DovecotTestServer.makeMailbox(password: "pä\"ss wörd")
        try mailbox.deliver("Subject: over tls\n\nbody")
        let mailboxes = try await IMAPClient.withSession(try Self.endpoint(mailbox, tls: true)) { session in try await session.listMailboxes() }
        #expect(mailboxes == ["INBOX"])
    }

    @Test func tlsRefusesAnUntrustedCertificate() async throws {
        let mailbox = try DovecotTestServer.makeMailbox()
        await #expect(throws: NodeError.self) {
            try await IMAPClient.withSession(try Self.endpoint(mailbox, tls: true, trustsTestCertificate: false)) { _ in }
        }
    }

    @Test func aClosedPortIsARetryableConnectionError() async throws {
        let yaml = "mail: {type: imap, host: 127.0.0.1, port: 1, security: none, user: nobody, password: x}"
        let catalog = try ConnectionsFile.parse(yaml, file: nil, specs: [IMAPConnector.spec], environment: [:])
        do {
            try await IMAPClient.withSession(try IMAPEndpoint(#require(catalog.connections["mail"]))) { _ in }
            Issue.record("connected to port 1")
        } catch let error as NodeError {
            #expect(error.code == "connection_failed")
            #expect(error.isRetryable)
            #expect(error.message.contains("127.0.0.1:1"))
        }
    }
}
