import Testing
@testable import NodesMail

@Suite struct MailMessageTests {
    static let invoice = """
    From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.com>
    To: "Invoices" <invoices@example.com>, ap@example.com
    Subject: =?UTF-8?B?UmVjaG51bmc=?= =?UTF-8?Q?_f=C3=BCr_Juli?=
     (second line)
    Date: Tue, 17 Nov 2026 10:00:00 +0100
    Message-ID: <abc.123@example.com>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="outer"

    preamble
    --outer
    Content-Type: multipart/alternative; boundary=inner

    --inner
    Content-Type: text/plain; charset=iso-8859-1
    Content-Transfer-Encoding: quoted-printable

    Gr=FC=DFe, see the att=
    ached invoice.
    --inner
    Content-Type: text/html; charset=utf-8

    <p>Grüße</p>
    --inner--
    --outer
    Content-Type: text/csv; name="ignored.csv"
    Content-Disposition: attachment; filename*=UTF-8''Rechnung%20Juli%20%E2%82%AC.csv
    Content-Transfer-Encoding: base64

    aWQsYW1vdW50CjEsOS41MAo=
    --outer
    Content-Type: application/pdf
    Content-Disposition: attachment;
     filename*0="long-";
     filename*1="name.pdf"
    Content-Transfer-Encoding: base64

    JVBERi0=
    --outer--
    epilogue
    """.replacingOccurrences(of: "\n", with: "\r\n")

    @Test func readsHeadersBodyAndAttachments() throws {
        let message = MailMessage(Array(Self.invoice.utf8))
        #expect(message.from == "Jürgen Müller <juergen@example.com>")
        #expect(MailMessage.addresses(message.from) == ["juergen@example.com"])
        #expect(MailMessage.addresses(message.to) == ["invoices@example.com", "ap@example.com"])
        #expect(message.subject == "Rechnung für Juli (second line)")
        #expect(message.date == "2026-11-17T09:00:00Z")
        #expect(message.messageID == "abc.123@example.com")
        #expect(message.text == "Grüße, see the attached invoice.")
        #expect(message.html == "<p>Grüße</p>")
        #expect(message.attachments.map(\.fileName) == ["Rechnung Juli €.csv", "long-name.pdf"])
        #expect(message.attachments.map(\.contentType) == ["text/csv", "application/pdf"])
        #expect(String(decoding: message.attachments[0].bytes, as: UTF8.self) == "id,amount\n1,9.50\n")
        #expect(message.attachments[1].bytes == Array("%PDF-".utf8))
    }

    @Test func aPlainMessageWithLFLineEndsHasNoAttachments() {
        let message = MailMessage(Array("Subject: plain\nFrom: a@example.com\n\nhello\nworld\n".utf8))
        #expect(message.subject == "plain")
        #expect(message.text == "hello\nworld\n")
        #expect(message.attachments.isEmpty)
        #expect(message.date == nil)
    }

    @Test func htmlOnlyMessagesGiveTextWithoutTags() {
        let message = MailMessage(Array("Content-Type: text/html\r\n\r\n<html><body><b>Total:</b> 42</body></html>".utf8))
        #expect(message.bodyText == "Total: 42")
    }
}
