import NIOCore
import NIOPosix
import NIOSSL
import NodeKit

/// A PostgreSQL connection that speaks the frontend/backend protocol (v3) itself, for what postgres-nio 1.x
/// does not offer: `COPY … TO STDOUT` read in large chunks and decoded in place, and binary `COPY … FROM STDIN`.
///
/// It does what full-table reads and loads need: TLS per `sslmode`, startup, authentication (trust,
/// cleartext, MD5, SCRAM-SHA-256), simple queries with text results, COPY OUT and COPY IN. Everything else
/// uses postgres-nio. A session is used by one task at a time (hence `@unchecked Sendable`: a load's open
/// transaction is handed from the node's work to its pending commit).
final class PostgresWireSession: @unchecked Sendable {
    let endpoint: PostgresEndpoint
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Ends the task that keeps the channel's scope open (see `open`).
    private let release: AsyncStream<Never>.Continuation
    private var isClosed = false
    /// Bytes received and not yet consumed.
    private(set) var buffer = ByteBuffer()

    private init(endpoint: PostgresEndpoint, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                 outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, release: AsyncStream<Never>.Continuation) {
        self.endpoint = endpoint
        self.inbound = inbound
        self.outbound = outbound
        self.release = release
    }

    deinit { release.finish() }

    /// Connects, negotiates TLS, logs in, runs `body`, then says goodbye and closes.
    static func withSession<Result: Sendable>(_ endpoint: PostgresEndpoint, _ body: (PostgresWireSession) async throws -> Result) async throws -> Result {
        let session = try await open(endpoint)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// Connects, negotiates TLS and logs in; the session stays open until `close` (a load's transaction
    /// outlives the work that opened it). Connection and login failures are retryable node errors naming
    /// host, port, database and user (never the password); a refused login is not retryable.
    static func open(_ endpoint: PostgresEndpoint) async throws -> PostgresWireSession {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(15))
                .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw NodeError(code: "connection_failed", message: "cannot connect to \(endpoint)", isRetryable: true, cause: "\(error)")
        }
        // NIOAsyncChannel hands out its streams only inside `executeThenClose`; a task parks in that scope
        // until the session is closed (or dropped), and the channel closes when it returns.
        let (released, release) = AsyncStream<Never>.makeStream()
        return try await withCheckedThrowingContinuation { opened in
            Task {
                var handedOut = false
                do {
                    try await channel.executeThenClose { inbound, outbound in
                        opened.resume(returning: try await start(endpoint, channel.channel, inbound, outbound, release))
                        handedOut = true
                        for await _ in released {}
                    }
                } catch where !handedOut {
                    opened.resume(throwing: error)
                } catch {}
            }
        }
    }

    private static func start(_ endpoint: PostgresEndpoint, _ channel: any Channel, _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
                              _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, _ release: AsyncStream<Never>.Continuation) async throws -> PostgresWireSession {
        let session = PostgresWireSession(endpoint: endpoint, inbound: inbound.makeAsyncIterator(), outbound: outbound, release: release)
        do {
            try await session.negotiateTLS(channel)
            try await session.startup()
            return session
        } catch let error as NodeError {
            throw error
        } catch {
            throw NodeError(code: "connection_failed", message: "cannot connect to \(endpoint)", isRetryable: true, cause: "\(error)")
        }
    }

    /// Says goodbye (Terminate) and closes the connection; an open transaction is rolled back by the server.
    func close() async {
        guard !isClosed else { return }
        isClosed = true
        var terminate = ByteBuffer()
        PostgresWireMessage.write(type: "X", to: &terminate) { _ in }
        try? await outbound.write(terminate)
        release.finish()
    }

    // MARK: Startup

    private func negotiateTLS(_ channel: any Channel) async throws {
        guard endpoint.sslmode != .disable else { return }
        var request = ByteBuffer()
        request.writeInteger(Int32(8))
        request.writeInteger(Int32(80_877_103))
        try await outbound.write(request)
        try await fill()
        guard let answer = buffer.readInteger(as: UInt8.self) else { throw PostgresWireError.protocolViolation("no answer to the TLS request") }
        if answer == UInt8(ascii: "S") {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none // libpq's prefer/require encrypt without verifying
            let context = try NIOSSLContext(configuration: configuration)
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil), position: .first)
            }.get()
        } else if endpoint.sslmode == .require {
            throw NodeError(code: "tls_unavailable", message: "\(endpoint) does not offer TLS and sslmode is require")
        }
    }

    private func startup() async throws {
        var message = ByteBuffer()
        let start = message.writerIndex
        message.writeInteger(Int32(0))
        message.writeInteger(Int32(196_608)) // protocol 3.0
        for (key, value) in [("user", endpoint.user), ("database", endpoint.database), ("client_encoding", "UTF8"),
                             ("DateStyle", "ISO"), ("standard_conforming_strings", "on"), ("application_name", "sluice")] {
            message.writeNullTerminated(key)
            message.writeNullTerminated(value)
        }
        message.writeInteger(UInt8(0))
        message.setInteger(Int32(message.writerIndex - start), at: start)
        try await outbound.write(message)
        var scram: SCRAMClient?
        while true {
            var (type, body) = try await nextMessage()
            switch type {
            case UInt8(ascii: "R"):
                guard let code = body.readInteger(as: Int32.self) else { throw PostgresWireError.protocolViolation("short authentication message") }
                switch code {
                case 0: break
                case 3: try await sendPassword(try password())
                case 5:
                    guard let salt = body.readBytes(length: 4) else { throw PostgresWireError.protocolViolation("short MD5 request") }
                    try await sendPassword(PostgresAuthentication.md5(user: endpoint.user, password: try password(), salt: salt))
                case 10:
                    var mechanisms: [String] = []
                    while let name = body.readNullTerminatedString(), !name.isEmpty { mechanisms.append(name) }
                    guard mechanisms.contains("SCRAM-SHA-256") else { throw authFailure("the server offers only \(mechanisms.joined(separator: ", "))") }
                    let client = SCRAMClient(password: try password())
                    scram = client
                    var reply = ByteBuffer()
                    PostgresWireMessage.write(type: "p", to: &reply) { out in
                        out.writeNullTerminated("SCRAM-SHA-256")
                        let first = Array(client.clientFirstMessage.utf8)
                        out.writeInteger(Int32(first.count))
                        out.writeBytes(first)
                    }
                    try await outbound.write(reply)
                case 11:
                    guard let client = scram else { throw PostgresWireError.protocolViolation("SASL continue without SASL") }
                    let final = try client.clientFinalMessage(serverFirst: body.readString(length: body.readableBytes) ?? "")
                    var reply = ByteBuffer()
                    PostgresWireMessage.write(type: "p", to: &reply) { $0.writeString(final) }
                    try await outbound.write(reply)
                case 12:
                    guard let client = scram, client.verify(serverFinal: body.readString(length: body.readableBytes) ?? "") else {
                        throw authFailure("the server's SCRAM signature does not match")
                    }
                default:
                    throw authFailure("authentication method \(code) is not supported (use scram-sha-256, md5, password or trust)")
                }
            case UInt8(ascii: "E"):
                let error = PostgresWireError.server(PostgresServerNotice(body))
                throw NodeError(code: "connection_failed", message: "cannot connect to \(endpoint)", isRetryable: !error.isAuthentication, cause: "\(error)")
            case UInt8(ascii: "Z"):
                return
            default:
                continue // ParameterStatus, BackendKeyData, notices
            }
        }
    }

    private func password() throws -> String {
        guard let password = endpoint.password?.reveal() else { throw authFailure("the server asks for a password and the connection has none") }
        return password
    }

    private func authFailure(_ reason: String) -> NodeError {
        NodeError(code: "login_failed", message: "cannot log in to \(endpoint)", isRetryable: false, cause: reason)
    }

    private func sendPassword(_ text: String) async throws {
        var reply = ByteBuffer()
        PostgresWireMessage.write(type: "p", to: &reply) { $0.writeNullTerminated(text) }
        try await outbound.write(reply)
    }

    // MARK: Messages

    /// Sends a simple query (`Q`).
    func sendQuery(_ sql: String) async throws {
        var message = ByteBuffer()
        PostgresWireMessage.write(type: "Q", to: &message) { $0.writeNullTerminated(sql) }
        try await outbound.write(message)
    }

    /// Sends already framed protocol messages.
    func send(_ messages: ByteBuffer) async throws {
        try await outbound.write(messages)
    }

    /// Reads more bytes from the server into `buffer`; throws when the connection closed.
    func fill() async throws {
        guard var chunk = try await inbound.next() else { throw PostgresWireError.closed }
        if buffer.readerIndex > 1 << 20 || buffer.readableBytes == 0 { buffer.discardReadBytes() }
        buffer.writeBuffer(&chunk)
    }

    /// The next whole message: its type byte and body.
    func nextMessage() async throws -> (type: UInt8, body: ByteBuffer) {
        while true {
            if let header = PostgresWireMessage.header(buffer), buffer.readableBytes >= 1 + header.length {
                let body = buffer.getSlice(at: buffer.readerIndex + 5, length: header.length - 4)!
                buffer.moveReaderIndex(forwardBy: 1 + header.length)
                return (header.type, body)
            }
            try await fill()
        }
    }

    /// Hands the unconsumed bytes to `body`, which returns how many of them it consumed (one buffer access
    /// for many messages: per-message access cost retains and exclusivity checks on every row).
    func consumeBuffered(_ body: (UnsafeRawBufferPointer) throws -> Int) rethrows {
        let used = try buffer.withUnsafeReadableBytes(body)
        buffer.moveReaderIndex(forwardBy: used)
    }

    /// Consumes the message at the front of `buffer` without copying it.
    func skipMessage(length: Int) { buffer.moveReaderIndex(forwardBy: 1 + length) }
}

/// Framing of protocol messages: a type byte, then a 32-bit length that counts itself and the body.
enum PostgresWireMessage {
    /// The type and length of the message at the front of `buffer`, once its 5-byte header arrived.
    static func header(_ buffer: ByteBuffer) -> (type: UInt8, length: Int)? {
        guard buffer.readableBytes >= 5, let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self) else { return nil }
        return (type, Int(length))
    }

    static func write(type: Character, to buffer: inout ByteBuffer, _ body: (inout ByteBuffer) -> Void) {
        buffer.writeInteger(type.asciiValue!)
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        body(&buffer)
        buffer.setInteger(Int32(buffer.writerIndex - start), at: start)
    }
}

/// The fields of an ErrorResponse or NoticeResponse that are worth showing.
struct PostgresServerNotice: CustomStringConvertible {
    var message = ""
    var detail: String?
    var sqlState: String?
    /// The 1-based character of the statement the server points at.
    var position: Int?
    /// ERROR, WARNING, NOTICE… (not localized).
    var severity: String?
    var hint: String?

    init(_ body: ByteBuffer) {
        var body = body
        while let code = body.readInteger(as: UInt8.self), code != 0, let value = body.readNullTerminatedString() {
            switch code {
            case UInt8(ascii: "M"): message = value
            case UInt8(ascii: "D"): detail = value
            case UInt8(ascii: "C"): sqlState = value
            case UInt8(ascii: "P"): position = Int(value)
            case UInt8(ascii: "V"): severity = value
            case UInt8(ascii: "H"): hint = value
            default: break
            }
        }
    }

    var description: String { message + (detail.map { ": \($0)" } ?? "") + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
}

enum PostgresWireError: Error, CustomStringConvertible {
    case closed
    case protocolViolation(String)
    case server(PostgresServerNotice)

    var description: String {
        switch self {
        case .closed: "the server closed the connection"
        case let .protocolViolation(what): "unexpected data from the server: \(what)"
        case let .server(notice): notice.description
        }
    }

    var sqlState: String? { if case let .server(notice) = self { notice.sqlState } else { nil } }

    /// 28000 invalid authorization, 28P01 wrong password: trying again does not help.
    var isAuthentication: Bool { sqlState?.hasPrefix("28") == true }
}

extension ByteBuffer {
    mutating func writeNullTerminated(_ text: String) {
        writeString(text)
        writeInteger(UInt8(0))
    }
}
