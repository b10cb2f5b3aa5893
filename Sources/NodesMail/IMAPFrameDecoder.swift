import NIOCore

/// Turns the server's bytes into parsed `IMAPResponse`s, one per complete frame (line plus literals).
struct IMAPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = IMAPResponse

    /// The largest literal accepted (a message body); a larger one fails the session instead of filling memory.
    let maxLiteral: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let maxLiteral = maxLiteral
        guard let length = try buffer.withUnsafeReadableBytes({ try IMAPResponseParser.frameLength($0, maxLiteral: maxLiteral) }) else {
            return .needMoreData
        }
        let frame = buffer.readBytes(length: length)!
        context.fireChannelRead(Self.wrapInboundOut(try IMAPResponseParser.parse(frame)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Closes the connection when the server sent nothing for the read timeout (IdleStateHandler's event),
/// so a silent server ends the session with an error instead of hanging the poll.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
