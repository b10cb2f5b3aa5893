import NIOCore

/// One SMTP reply (RFC 5321 §4.2): a three-digit code and its text lines (`250-PIPELINING` … `250 SIZE`).
struct SMTPReply: Sendable, CustomStringConvertible {
    let code: Int
    let lines: [String]

    var isPositive: Bool { (200..<400).contains(code) }
    /// 4xx: the server may accept the same command later.
    var isTransient: Bool { (400..<500).contains(code) }
    /// The reply as the server sent it, lines joined: `550 5.1.1 <bob@example.com>: Recipient address rejected`.
    var description: String { "\(code) " + lines.joined(separator: " ") }
}

/// Reading a reply went wrong: not a reply line, or more than a reply may hold.
struct SMTPProtocolError: Error { let message: String }

/// Turns the server's bytes into `SMTPReply`s: lines ending in CRLF (a bare LF is accepted), continued while the
/// fourth character is `-`. A line over 8 KB or a reply over 1,000 lines fails the session instead of filling memory.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    static let maxLine = 8192
    static let maxLines = 1000
    private var code: Int?
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maxLine { throw SMTPProtocolError(message: "the server sent a reply line over \(Self.maxLine) bytes") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= Self.maxLine else { throw SMTPProtocolError(message: "the server sent a reply line over \(Self.maxLine) bytes") }
        var bytes = buffer.readBytes(length: length + 1)!
        bytes.removeLast()
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy(\.isASCII), let number = Int(digits), (200...599).contains(number) else {
            throw SMTPProtocolError(message: "the server sent '\(line.prefix(80))', not an SMTP reply")
        }
        if let code, code != number { throw SMTPProtocolError(message: "the server mixed reply codes \(code) and \(number) in one reply") }
        code = number
        let separator = line.dropFirst(3).first
        lines.append(String(line.dropFirst(4)))
        guard lines.count <= Self.maxLines else { throw SMTPProtocolError(message: "the server sent a reply of more than \(Self.maxLines) lines") }
        if separator == "-" { return .continue }
        context.fireChannelRead(Self.wrapInboundOut(SMTPReply(code: number, lines: lines)))
        code = nil
        lines = []
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}
