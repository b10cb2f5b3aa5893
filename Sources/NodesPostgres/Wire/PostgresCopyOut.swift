import NIOCore

extension PostgresWireSession {
    /// Runs `COPY (select) TO STDOUT (FORMAT binary)` and decodes rows as they arrive, straight from the
    /// receive buffer; `flush` takes each full batch (and the last one). A server error, before or during
    /// the copy, is thrown once the server is ready again.
    func copyOut(_ select: String, into decoder: inout BinaryCopyDecoder, flush: (inout PostgresBatchBuilder) async throws -> Void) async throws {
        try await sendQuery("COPY (\(select)) TO STDOUT (FORMAT binary)")
        // CopyOutResponse ('H') starts the data; an error ends the command instead.
        while true {
            guard let header = PostgresWireMessage.header(buffer), buffer.readableBytes >= 1 + header.length else { try await fill(); continue }
            if header.type == UInt8(ascii: "E") { try await finishCommand(); return }
            skipMessage(length: header.length)
            if header.type == UInt8(ascii: "H") { break }
        }
        copying: while true {
            // Decode every whole CopyData message buffered, up to a full batch; stop at any other message.
            var other: UInt8?
            try consumeBuffered { raw in
                var offset = 0
                while raw.count - offset >= 5 {
                    let type = raw[offset]
                    let length = Int(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 1, as: Int32.self)))
                    guard raw.count - offset >= 1 + length else { break }
                    guard type == UInt8(ascii: "d") else { other = type; break }
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[(offset + 5)..<(offset + 1 + length)]))
                    offset += 1 + length
                    if decoder.rows.isFull { break }
                }
                return offset
            }
            if decoder.rows.isFull { try await flush(&decoder.rows); continue }
            guard let other else { try await fill(); continue }
            switch other {
            case UInt8(ascii: "c"):
                _ = try await nextMessage()
                break copying
            case UInt8(ascii: "E"):
                try await finishCommand()
                return
            default:
                _ = try await nextMessage() // notices
            }
        }
        if decoder.rows.count > 0 { try await flush(&decoder.rows) }
        try await finishCommand()
    }
}
