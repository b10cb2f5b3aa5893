import NIOCore

/// The data of one `COPY … FROM STDIN`, framed as CopyData messages of about 1 MB: rows are appended to
/// `buffer` and `PostgresWireSession.send(_:)` sends what has accumulated.
struct PostgresCopyInData {
    /// The message being filled: a CopyData header (type and length, set when sent), then data.
    var buffer = ByteBuffer()
    /// Data bytes sent so far.
    private(set) var sentBytes = 0
    static let messageBytes = 1 << 20

    init() { startMessage() }

    /// True when a message's worth of data is waiting.
    var isFull: Bool { buffer.readableBytes >= Self.messageBytes }

    /// The framed message with the data appended since the last one (nil when there is none), and a fresh buffer.
    mutating func takeMessage() -> ByteBuffer? {
        guard buffer.readableBytes > 5 else { return nil }
        buffer.setInteger(Int32(buffer.readableBytes - 1), at: buffer.readerIndex + 1)
        sentBytes += buffer.readableBytes - 5
        let message = buffer
        startMessage()
        return message
    }

    private mutating func startMessage() {
        buffer = ByteBuffer()
        buffer.reserveCapacity(Self.messageBytes + (64 << 10))
        buffer.writeInteger(UInt8(ascii: "d"))
        buffer.writeInteger(Int32(0))
    }
}

extension PostgresWireSession {
    /// Runs `sql`, a `COPY … FROM STDIN`: `produce` appends the data and calls `send(_:)` whenever it
    /// `isFull`. Returns the data bytes sent. A server error (a refused row, a constraint) is thrown once the
    /// server is ready again; the session stays usable. When `produce` throws, the copy is abandoned with
    /// CopyFail and its error is rethrown.
    func copyIn(_ sql: String, _ produce: (inout PostgresCopyInData) async throws -> Void) async throws -> Int {
        try await sendQuery(sql)
        // CopyInResponse ('G') starts the data; an error ends the command instead.
        while true {
            let (type, body) = try await nextMessage()
            if type == UInt8(ascii: "G") { break }
            if type == UInt8(ascii: "E") {
                _ = try? await finishCommand()
                throw PostgresWireError.server(PostgresServerNotice(body))
            }
            if type == UInt8(ascii: "Z") { throw PostgresWireError.protocolViolation("\(sql.prefix(40))… did not start a copy") }
        }
        var data = PostgresCopyInData()
        do {
            try await produce(&data)
            try await send(&data)
            var done = ByteBuffer()
            PostgresWireMessage.write(type: "c", to: &done) { _ in }
            try await send(done)
        } catch {
            // After an error of its own the server drops further copy messages; otherwise it ends the copy here.
            try? await sendCopyFail("abandoned by Sluice: \(error)")
            _ = try? await finishCommand()
            throw error
        }
        try await finishCommand()
        return data.sentBytes
    }

    /// Sends the copy data accumulated in `data`.
    func send(_ data: inout PostgresCopyInData) async throws {
        if let message = data.takeMessage() { try await send(message) }
    }
}
