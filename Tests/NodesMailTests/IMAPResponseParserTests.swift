import Testing
@testable import NodesMail

@Suite struct IMAPResponseParserTests {
    func frame(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func framesEndAtCRLFAndSkipLiteralsByLength() throws {
        let fetch = "* 1 FETCH (UID 7 BODY[] {12}\r\nline1\r\n{3}\r\n UID 7)\r\n* 2 EXISTS\r\n"
        let length = try #require(try IMAPResponseParser.frameLength(frame(fetch), maxLiteral: 100))
        #expect(length == fetch.utf8.count - "* 2 EXISTS\r\n".utf8.count)
        // A literal that has not fully arrived, and a line without its CRLF, need more data.
        #expect(try IMAPResponseParser.frameLength(frame("* 1 FETCH (BODY[] {12}\r\nline1"), maxLiteral: 100) == nil)
        #expect(try IMAPResponseParser.frameLength(frame("* OK still"), maxLiteral: 100) == nil)
        #expect(throws: IMAPProtocolError.self) { try IMAPResponseParser.frameLength(frame("* 1 FETCH (BODY[] {5000}\r\n"), maxLiteral: 100) }
    }

    @Test func parsesStatusResponsesWithCodes() throws {
        #expect(try IMAPResponseParser.parse(frame("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"))
            == .status(IMAPStatus(.ok, code: "UIDVALIDITY 3857529045", text: "UIDs valid")))
        let tagged = try IMAPResponseParser.parse(frame("S3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"))
        #expect(tagged == .tagged(tag: "S3", IMAPStatus(.no, code: "AUTHENTICATIONFAILED", text: "Authentication failed.")))
        #expect(IMAPStatus(.ok, code: "UIDNEXT 42", text: "").codeNumber("UIDNEXT") == 42)
        #expect(try IMAPResponseParser.parse(frame("+ Ready\r\n")) == .continuation("Ready"))
    }

    @Test func parsesDataResponses() throws {
        #expect(try IMAPResponseParser.parse(frame("* 23 EXISTS\r\n")) == .data(number: 23, keyword: "EXISTS", values: []))
        #expect(try IMAPResponseParser.parse(frame("* SEARCH 2 84 882\r\n")) == .data(number: nil, keyword: "SEARCH", values: [.atom("2"), .atom("84"), .atom("882")]))
        let list = try IMAPResponseParser.parse(frame("* LIST (\\HasNoChildren) \".\" \"Sent Items\"\r\n"))
        #expect(list == .data(number: nil, keyword: "LIST", values: [.list([.atom("\\HasNoChildren")]), .string(Array(".".utf8)), .string(Array("Sent Items".utf8))]))
        let quoted = try IMAPResponseParser.parse(frame("* LIST () NIL \"a \\\"b\\\" \\\\c\"\r\n"))
        #expect(quoted == .data(number: nil, keyword: "LIST", values: [.list([]), .nilValue, .string(Array("a \"b\" \\c".utf8))]))
    }

    @Test func parsesFetchWithLiteralBodyAndSections() throws {
        let body = "Subject: hi\r\n\r\n(not a list) {9}\r\n"
        let text = "* 12 FETCH (UID 4827 RFC822.SIZE \(body.utf8.count) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" BODY[] {\(body.utf8.count)}\r\n\(body) FLAGS (\\Seen))\r\n"
        let length = try #require(try IMAPResponseParser.frameLength(frame(text), maxLiteral: 1000))
        #expect(length == text.utf8.count)
        let fetch = try #require(IMAPFetch(try IMAPResponseParser.parse(frame(text))))
        #expect(fetch.sequenceNumber == 12)
        #expect(fetch.uid == 4827)
        #expect(fetch.size == body.utf8.count)
        #expect(fetch.internalDate == "17-Jul-1996 02:44:25 -0700")
        #expect(fetch.body == Array(body.utf8))
        let section = try IMAPResponseParser.parse(frame("* 1 FETCH (BODY[HEADER.FIELDS (FROM TO)] {0}\r\n)\r\n"))
        #expect(IMAPFetch(section)?.attributes["BODY[HEADER.FIELDS (FROM TO)]"] == .string([]))
    }

    @Test func rejectsGarbageWithTheLineQuoted() {
        #expect(throws: IMAPProtocolError.self) { try IMAPResponseParser.parse(frame("* 1 FETCH (UID 1\r\n")) }
        do {
            _ = try IMAPResponseParser.parse(frame("S1 MAYBE fine\r\n"))
            Issue.record("accepted an unknown status")
        } catch {
            #expect("\(error)".contains("S1 MAYBE fine"))
        }
    }

    @Test(arguments: [("INBOX", "INBOX"), ("Entwürfe", "Entw&APw-rfe"), ("R&D", "R&-D"), ("日本語", "&ZeVnLIqe-")])
    func mailboxNamesUseModifiedUTF7(name: String, encoded: String) {
        #expect(ModifiedUTF7.encode(name) == encoded)
        #expect(ModifiedUTF7.decode(encoded) == name)
    }
}
