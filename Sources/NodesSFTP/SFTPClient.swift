import Foundation
import NIOCore
import NIOPosix
import NodeKit

/// How an `sftp` connection logs in and which server it trusts.
struct SFTPLogin: Sendable {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let privateKey: SSHPrivateKey?
    /// `SHA256:…` as `ssh-keygen -lf` prints it; a server presenting another key is refused.
    let hostKeyFingerprint: String
    let timeout: TimeAmount
}

/// An SFTP session over one SSH connection (Sluice's own SSH client, `SSHClientHandler`; the SFTP v3 subsystem on a
/// session channel). Requests are pipelined: each gets an id and its reply is matched by id, so many reads or
/// writes can be in flight.
final class SFTPClient: Sendable {
    private let connection: any Channel
    private let handler: NIOLoopBound<SFTPChannelHandler>
    /// Extensions the server announced (`posix-rename@openssh.com` makes commits a single atomic rename).
    let extensions: [String: String]

    private init(connection: any Channel, handler: NIOLoopBound<SFTPChannelHandler>, extensions: [String: String]) {
        self.connection = connection
        self.handler = handler
        self.extensions = extensions
    }

    deinit { connection.close(promise: nil) }

    /// Opens a session. A server has one host key per type and the pinned fingerprint may be any of them: when the
    /// key of the preferred type is not the pinned one, the types the server also offers are tried in turn.
    static func connect(_ login: SFTPLogin) async throws -> SFTPClient {
        var credentials = SSHCredentials(user: login.user, password: login.password, privateKey: login.privateKey, hostKeyFingerprint: login.hostKeyFingerprint)
        var seen: [String] = []
        while true {
            do { return try await connect(login, credentials) } catch let SSHError.hostKeyMismatch(fingerprint, algorithm, offered) {
                seen.append("\(fingerprint) (\(SSHHostKey.family(algorithm)))")
                credentials.hostKeyAlgorithms.removeAll { SSHHostKey.family($0) == SSHHostKey.family(algorithm) }
                if !login.hostKeyFingerprint.isEmpty, credentials.hostKeyAlgorithms.contains(where: offered.contains) { continue }
                let expected = login.hostKeyFingerprint.isEmpty ? "no hostKeyFingerprint is set" : "the connection pins \(login.hostKeyFingerprint)"
                let keys = seen.count == 1 ? "host key is \(seen[0])" : "host keys are \(seen.joined(separator: ", "))"
                throw NodeError(code: "host_key_mismatch",
                                message: "\(login.host)'s \(keys) but \(expected); if you trust this server (check with its administrator, e.g. ssh-keygen -lf on its host key), set hostKeyFingerprint to it")
            }
        }
    }

    static func connect(_ login: SFTPLogin, _ credentials: SSHCredentials) async throws -> SFTPClient {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let ready = loop.makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(login.timeout)
            .channelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_TCP), TCP_NODELAY), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SSHClientHandler(credentials: credentials, subsystem: "sftp", timeout: login.timeout, ready: ready))
                    try channel.pipeline.syncOperations.addHandler(SFTPChannelHandler())
                }
            }
        let connection: any Channel
        do { connection = try await bootstrap.connect(host: login.host, port: login.port).get() } catch {
            ready.fail(error)
            throw NodeError(code: "sftp_unreachable", message: "cannot connect to \(login.host):\(login.port): \(error)", isRetryable: true)
        }
        do {
            try await ready.futureResult.get()
            let handler = try await connection.eventLoop.submit {
                NIOLoopBound(try connection.pipeline.syncOperations.handler(type: SFTPChannelHandler.self), eventLoop: connection.eventLoop)
            }.get()
            let version = try await connection.eventLoop.flatSubmit {
                handler.value.sendInit(version: 3)
            }.get()
            guard case let .version(number, extensions) = version, number >= 3 else {
                throw NodeError(code: "sftp_error", message: "\(login.host) does not speak SFTP version 3")
            }
            return SFTPClient(connection: connection, handler: handler, extensions: extensions)
        } catch {
            connection.close(promise: nil)
            switch error {
            case let error as NodeError: throw error
            case SSHError.hostKeyMismatch: throw error
            case let SSHError.loginRefused(text):
                throw NodeError(code: "sftp_login_failed", message: "could not log in to \(login.host):\(login.port) as '\(login.user)': \(text)")
            default:
                throw NodeError(code: "sftp_login_failed", message: "could not open an SFTP session on \(login.host):\(login.port) as '\(login.user)': \(error)")
            }
        }
    }

    /// How many key exchanges the connection went through (1, plus one per re-key).
    func keyExchanges() async throws -> Int {
        let connection = connection
        return try await connection.eventLoop.submit { try connection.pipeline.syncOperations.handler(type: SSHClientHandler.self).keyExchanges }.get()
    }

    /// Sends a request built for its id and waits for the reply.
    func request(_ kind: SFTPMessage.Kind, _ body: @escaping @Sendable (inout ByteBuffer) -> Void) async throws -> SFTPMessage.Reply {
        let handler = handler
        return try await connection.eventLoop.flatSubmit { handler.value.send(kind, body) }.get()
    }

    /// A reply that must be a status OK (or the error it carries).
    func expectOK(_ reply: SFTPMessage.Reply, _ operation: String) throws {
        guard case let .status(_, code, message) = reply else { throw SFTPError.protocolError("\(operation): unexpected reply") }
        guard code == SFTPMessage.ok else { throw SFTPError.status(code: code, message: message, operation: operation) }
    }

    func open(_ path: String, flags: SFTPMessage.OpenFlags) async throws -> ByteBuffer {
        let reply = try await request(.open) { buffer in
            buffer.writeSFTPString(path)
            buffer.writeInteger(flags.rawValue)
            SFTPMessage.Attributes(permissions: flags.contains(.create) ? 0o644 : nil).write(to: &buffer)
        }
        switch reply {
        case let .handle(_, handle): return handle
        case let .status(_, code, message): throw SFTPError.status(code: code, message: message, operation: "opening '\(path)'")
        default: throw SFTPError.protocolError("opening '\(path)': unexpected reply")
        }
    }

    func close(_ handle: ByteBuffer) async throws {
        try expectOK(try await request(.close) { $0.writeSFTPBytes(handle) }, "closing a file")
    }

    /// Up to `length` bytes at `offset`; empty at the end of the file.
    func read(_ handle: ByteBuffer, offset: UInt64, length: UInt32) async throws -> ByteBuffer {
        let reply = try await request(.read) { buffer in
            buffer.writeSFTPBytes(handle)
            buffer.writeInteger(offset)
            buffer.writeInteger(length)
        }
        switch reply {
        case let .data(_, data): return data
        case let .status(_, code, _) where code == SFTPMessage.endOfFile: return ByteBuffer()
        case let .status(_, code, message): throw SFTPError.status(code: code, message: message, operation: "reading")
        default: throw SFTPError.protocolError("reading: unexpected reply")
        }
    }

    func write(_ handle: ByteBuffer, offset: UInt64, data: ByteBuffer) async throws {
        try expectOK(try await request(.write) { buffer in
            buffer.writeSFTPBytes(handle)
            buffer.writeInteger(offset)
            buffer.writeSFTPBytes(data)
        }, "writing")
    }

    func stat(_ path: String) async throws -> SFTPMessage.Attributes? {
        switch try await request(.stat, { $0.writeSFTPString(path) }) {
        case let .attrs(_, attributes): return attributes
        case let .status(_, code, _) where code == SFTPMessage.noSuchFile: return nil
        case let .status(_, code, message): throw SFTPError.status(code: code, message: message, operation: "checking '\(path)'")
        default: throw SFTPError.protocolError("stat: unexpected reply")
        }
    }

    /// The entries of a directory (without `.` and `..`).
    func list(_ directory: String) async throws -> [(name: String, attributes: SFTPMessage.Attributes)] {
        let handle: ByteBuffer
        switch try await request(.opendir, { $0.writeSFTPString(directory) }) {
        case let .handle(_, h): handle = h
        case let .status(_, code, message): throw SFTPError.status(code: code, message: message, operation: "listing '\(directory)'")
        default: throw SFTPError.protocolError("opendir: unexpected reply")
        }
        var entries: [(String, SFTPMessage.Attributes)] = []
        reading: while true {
            switch try await request(.readdir, { $0.writeSFTPBytes(handle) }) {
            case let .name(_, names): entries += names.filter { $0.name != "." && $0.name != ".." }
            case let .status(_, code, _) where code == SFTPMessage.endOfFile: break reading
            case let .status(_, code, message): throw SFTPError.status(code: code, message: message, operation: "listing '\(directory)'")
            default: throw SFTPError.protocolError("readdir: unexpected reply")
            }
        }
        try? await close(handle)
        return entries
    }

    func remove(_ path: String) async throws {
        try expectOK(try await request(.remove) { $0.writeSFTPString(path) }, "removing '\(path)'")
    }

    func mkdir(_ path: String) async throws {
        try expectOK(try await request(.mkdir) { buffer in
            buffer.writeSFTPString(path)
            SFTPMessage.Attributes.empty.write(to: &buffer)
        }, "creating the folder '\(path)'")
    }

    /// Renames, replacing the target: one atomic `posix-rename@openssh.com` where the server offers it, else a
    /// removal of the target and a rename (SFTP v3's rename refuses an existing target).
    func rename(_ path: String, to target: String) async throws {
        if extensions["posix-rename@openssh.com"] != nil {
            try expectOK(try await request(.extended) { buffer in
                buffer.writeSFTPString("posix-rename@openssh.com")
                buffer.writeSFTPString(path)
                buffer.writeSFTPString(target)
            }, "renaming '\(path)' to '\(target)'")
            return
        }
        if try await stat(target) != nil { try await remove(target) }
        try expectOK(try await request(.rename) { buffer in
            buffer.writeSFTPString(path)
            buffer.writeSFTPString(target)
        }, "renaming '\(path)' to '\(target)'")
    }

    /// Creates every missing folder of `directory` (like `mkdir -p`).
    func makeDirectories(_ directory: String) async throws {
        var path = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            path += "/" + part
            if try await stat(path) == nil { try await mkdir(path) }
        }
    }
}

/// Frames SFTP packets on the session channel and matches replies to requests by id.
final class SFTPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The largest reply accepted (a READ of 256 KB, a long listing page, with room to spare).
    static let maximumPacket = 4 << 20

    private var context: ChannelHandlerContext?
    private var received: ByteBuffer?
    private var pending: [UInt32: EventLoopPromise<SFTPMessage.Reply>] = [:]
    private var versionPromise: EventLoopPromise<SFTPMessage.Reply>?
    private var nextID: UInt32 = 1
    private var failure: (any Error)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func sendInit(version: UInt32) -> EventLoopFuture<SFTPMessage.Reply> {
        guard let context else { return MultiThreadedEventLoopGroup.singleton.any().makeFailedFuture(SFTPError.closed) }
        let promise = context.eventLoop.makePromise(of: SFTPMessage.Reply.self)
        versionPromise = promise
        let packet = SFTPMessage.packet(.initialize, id: nil) { $0.writeInteger(version) }
        context.writeAndFlush(wrapOutboundOut(packet), promise: nil)
        return promise.futureResult
    }

    func send(_ kind: SFTPMessage.Kind, _ body: (inout ByteBuffer) -> Void) -> EventLoopFuture<SFTPMessage.Reply> {
        guard let context else { return MultiThreadedEventLoopGroup.singleton.any().makeFailedFuture(SFTPError.closed) }
        if let failure { return context.eventLoop.makeFailedFuture(failure) }
        let id = nextID
        nextID &+= 1
        let promise = context.eventLoop.makePromise(of: SFTPMessage.Reply.self)
        pending[id] = promise
        let packet = SFTPMessage.packet(kind, id: id, body)
        context.writeAndFlush(wrapOutboundOut(packet), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
        do {
            while var buffer = received, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) {
                guard length <= Self.maximumPacket else { throw SFTPError.protocolError("a packet of \(length) bytes") }
                guard buffer.readableBytes >= 4 + Int(length) else { break }
                buffer.moveReaderIndex(forwardBy: 4)
                var packet = buffer.readSlice(length: Int(length))!
                received = buffer
                let reply = try SFTPMessage.decode(&packet)
                if case .version = reply {
                    versionPromise?.succeed(reply)
                    versionPromise = nil
                } else if let id = reply.id, let promise = pending.removeValue(forKey: id) {
                    promise.succeed(reply)
                }
            }
            // Moving a partial packet to the front costs a copy: only once a megabyte of read bytes sits before it.
            if received?.readableBytes == 0 { received = nil } else if (received?.readerIndex ?? 0) > 1 << 20 { received?.discardReadBytes() }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(SFTPError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        failure = error
        versionPromise?.fail(error)
        versionPromise = nil
        let waiting = pending
        pending = [:]
        for promise in waiting.values { promise.fail(error) }
    }
}
