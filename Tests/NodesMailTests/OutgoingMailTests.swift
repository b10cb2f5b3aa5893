import Foundation
import Testing
@testable import NodesMail

/// The message composer and DATA framing, without a server.
@Suite struct OutgoingMailTests {
    @Test func dotStuffingDoublesLeadingDotsAndEndsTheMessage() {
        let stuffed = SMTPSession.dotStuffed(Array(".one\n..two\r\nthree.\r\n.".utf8))
        #expect(String(decoding: stuffed, as: UTF8.self) == "..one\r\n...two\r\nthree.\r\n..\r\n.\r\n")
        #expect(String(decoding: SMTPSession.dotStuffed([]), as: UTF8.self) == ".\r\n")
    }

    @Test func quotedPrintableKeepsLinesShortAndEscapesWhatItMust() {
        let encoded = MIMEPart.quotedPrintable(String(repeating: "a", count: 100) + " \nx=1 ü\t")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines.first?.hasSuffix("=") == true)
        #expect(lines.last == "x=3D1 =C3=BC=09")
        #expect(lines.contains { $0.hasSuffix("=20") }, "a trailing space is encoded")
    }

    @Test func headersEncodeNonASCIIAndNeverCarryLineBreaks() {
        var mail = OutgoingMail(from: MailAddress(name: "Ops, Team", address: "ops@example.com"), to: ["a@example.com"], subject: "Bcc: x@evil.example\r\nInjected: yes")
        mail.bcc = ["hidden@example.com"]
        let text = String(decoding: mail.rendered(), as: UTF8.self)
        #expect(text.contains("From: \"Ops, Team\" <ops@example.com>\r\n"))
        #expect(text.contains("Subject: Bcc: x@evil.example Injected: yes\r\n"), "\(text)")
        #expect(!text.contains("hidden@example.com"))
        #expect(mail.recipients == ["a@example.com", "hidden@example.com"])
        let words = MailHeaders.encodedWords(String(repeating: "€", count: 40))
        #expect(words.count > 1 && words.allSatisfy { $0.count <= 75 })
        #expect(MailMessage(Array("Subject: \(words.joined(separator: "\r\n "))\r\n\r\n".utf8)).subject == String(repeating: "€", count: 40))
    }

    @Test func addresses() {
        #expect(MailAddress.isValid("ann.lee+tag@mail.example.com"))
        for bad in ["", "ann", "ann@", "@x.com", "a b@x.com", "ann@x..com", "ann@-x.com", "a<b@x.com", "ann@x.com\r\nBcc: y@z.com", "a@b@c.com"] {
            #expect(!MailAddress.isValid(bad), "\(bad)")
        }
        #expect(MailAddress(parsing: "\"Lee, Ann\" <ann@x.com>") == MailAddress(name: "Lee, Ann", address: "ann@x.com"))
        #expect(MailAddress(parsing: "Ann <not an address>") == nil)
    }
}
