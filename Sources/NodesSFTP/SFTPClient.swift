import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSH
import NodeKit
import Synchronization

/// How an `sftp` connection logs in and which server it trusts.
struct SFTPLogin: Sendable {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let privateKey: NIOSSHPrivateKey?
    /// `SHA256:…` as `ssh-keygen -lf` prints it; a server presenting another key is refused.
    let hostKeyFingerprint: String
    let timeout: TimeAmount
}

/// The SHA-256 fingerprint of a public key as OpenSSH prints it: `SHA256:` and the unpadded base64 of the hash of
/// the key's wire form.
func sshFingerprint(_ key: NIOSSHPublicKey) -> String {
    let text = String(openSSHPublicKey: key)
    let blob = text.split(separator: " ").dropFirst().first.flatMap { Data(base64Encoded: String($0)) } ?? Data()
    return "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
}

/// An SFTP session over one SSH connection (swift-nio-ssh; the SFTP v3 subsystem on a session channel). Requests
/// are pipelined: each gets an id and its reply is matched by id, so many reads or writes can be in flight.
final class SFTPClient: Sendable {
    private let connection: any Channel
    private let session: any Channel
    private let handler: NIOLoopBound<SFTPChannelHandler>
    /// Extensions the server announced (`posix-rename@openssh.com` makes commits a single atomic rename).
    let extensions: [String: String]

    private init(connection: any Channel, session: any Channel, handler: NIOLoopBound<SFTPChannelHandler>, extensions: [String: String]) {
        self.connection = connection
        self.session = session
        self.handler = handler
        self.extensions = extensions
    }

    deinit { connection.close(promise: nil) }

    static func connect(_ login: SFTPLogin) async throws -> SFTPClient {
        let mismatch = SeenHostKey()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(login.timeout)
            .channelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_TCP), TCP_NODELAY), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let configuration = SSHClientConfiguration(userAuthDelegate: LoginDelegate(login), serverAuthDelegate: HostKeyPin(login.hostKeyFingerprint, mismatch: mismatch))
                    try channel.pipeline.syncOperations.addHandler(NIOSSHHandler(role: .client(configuration), allocator: channel.allocator, inboundChildChannelInitializer: nil))
                    try channel.pipeline.syncOperations.addHandler(CloseOnError())
                }
            }
        let connection: any Channel
        do { connection = try await bootstrap.connect(host: login.host, port: login.port).get() } catch {
            throw NodeError(code: "sftp_unreachable", message: "cannot connect to \(login.host):\(login.port): \(error)", isRetryable: true)
        }
        do {
            let session = try await connection.eventLoop.flatSubmit { () -> EventLoopFuture<any Channel> in
                let promise = connection.eventLoop.makePromise(of: (any Channel).self)
                do {
                    let ssh = try connection.pipeline.syncOperations.handler(type: NIOSSHHandler.self)
                    ssh.createChannel(promise, channelType: .session) { child, _ in
                        child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(SFTPChannelHandler()) }
                    }
                } catch { promise.fail(error) }
                return promise.futureResult
            }.get()
            try await session.triggerUserOutboundEvent(SSHChannelRequestEvent.SubsystemRequest(subsystem: "sftp", wantReply: true)).get()
            let handler = try await session.eventLoop.submit {
                NIOLoopBound(try session.pipeline.syncOperations.handler(type: SFTPChannelHandler.self), eventLoop: session.eventLoop)
            }.get()
            let version = try await session.eventLoop.flatSubmit {
                handler.value.sendInit(version: 3)
            }.get()
            guard case let .version(number, extensions) = version, number >= 3 else {
                throw NodeError(code: "sftp_error", message: "\(login.host) does not speak SFTP version 3")
            }
            return SFTPClient(connection: connection, session: session, handler: handler, extensions: extensions)
        } catch {
            connection.close(promise: nil)
            if let seen = mismatch.refused.withLock({ $0 }) {
                let expected = login.hostKeyFingerprint.isEmpty ? "no hostKeyFingerprint is set" : "the connection pins \(login.hostKeyFingerprint)"
                throw NodeError(code: "host_key_mismatch",
                                message: "\(login.host)'s host key is \(seen) but \(expected); if you trust this server (check with its administrator, e.g. ssh-keygen -lf on its host key), set hostKeyFingerprint to it")
            }
            if let error = error as? NodeError { throw error }
            throw NodeError(code: "sftp_login_failed", message: "could not open an SFTP session on \(login.host):\(login.port) as '\(login.user)' (login refused, or no SFTP subsystem): \(error)")
        }
    }

    /// Sends a request built for its id and waits for the reply.
    func request(_ kind: SFTPMessage.Kind, _ body: @escaping @Sendable (inout ByteBuffer) -> Void) async throws -> SFTPMessage.Reply {
        let handler = handler
        return try await session.eventLoop.flatSubmit { handler.value.send(kind, body) }.get()
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
    typealias InboundIn = SSHChannelData
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = SSHChannelData

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
        context.writeAndFlush(wrapOutboundOut(SSHChannelData(type: .channel, data: .byteBuffer(packet))), promise: nil)
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
        context.writeAndFlush(wrapOutboundOut(SSHChannelData(type: .channel, data: .byteBuffer(packet))), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard case .channel = message.type, case var .byteBuffer(bytes) = message.data else { return }
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
            if received?.readableBytes == 0 { received = nil } else { received?.discardReadBytes() }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(wrapOutboundOut(SSHChannelData(type: .channel, data: .byteBuffer(unwrapOutboundIn(data)))), promise: promise)
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

/// Offers the connection's private key, then its password, each once.
final class LoginDelegate: NIOSSHClientUserAuthenticationDelegate {
    private let login: SFTPLogin
    private var triedKey = false
    private var triedPassword = false

    init(_ login: SFTPLogin) { self.login = login }

    func nextAuthenticationType(availableMethods: NIOSSHAvailableUserAuthenticationMethods, nextChallengePromise: EventLoopPromise<NIOSSHUserAuthenticationOffer?>) {
        if !triedKey, let key = login.privateKey, availableMethods.contains(.publicKey) {
            triedKey = true
            nextChallengePromise.succeed(NIOSSHUserAuthenticationOffer(username: login.user, serviceName: "", offer: .privateKey(.init(privateKey: key))))
        } else if !triedPassword, let password = login.password, availableMethods.contains(.password) {
            triedPassword = true
            nextChallengePromise.succeed(NIOSSHUserAuthenticationOffer(username: login.user, serviceName: "", offer: .password(.init(password: password))))
        } else {
            // Nothing left to offer: fail, so the connection closes now rather than when the server gives up.
            let offered = [login.privateKey == nil ? nil : "key", login.password == nil ? nil : "password"].compactMap { $0 }.joined(separator: " and ")
            nextChallengePromise.fail(NodeError(code: "sftp_login_failed", message: "the server refused the \(offered) of '\(login.user)' (it accepts: \(availableMethods))"))
        }
    }
}

/// Accepts only the pinned host key; remembers what a refused server presented, for the error.
final class HostKeyPin: NIOSSHClientServerAuthenticationDelegate {
    private let expected: String
    private let mismatch: SeenHostKey

    init(_ expected: String, mismatch: SeenHostKey) {
        self.expected = expected
        self.mismatch = mismatch
    }

    func validateHostKey(hostKey: NIOSSHPublicKey, validationCompletePromise: EventLoopPromise<Void>) {
        let seen = sshFingerprint(hostKey)
        if !expected.isEmpty, seen == expected || "SHA256:" + expected == seen {
            validationCompletePromise.succeed(())
        } else {
            mismatch.refused.withLock { $0 = seen }
            validationCompletePromise.fail(NodeError(code: "host_key_mismatch", message: "host key \(seen) is not the pinned one"))
        }
    }
}

/// The fingerprint of a host key that was refused, kept for the error message.
final class SeenHostKey: Sendable {
    let refused = Mutex<String?>(nil)
}

/// Closes the SSH connection on any error (a refused host key, a failed login), so whatever waits on it fails at
/// once instead of when the server gives up on the login.
final class CloseOnError: ChannelInboundHandler {
    typealias InboundIn = Any

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
