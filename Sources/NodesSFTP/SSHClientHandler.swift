import Crypto
import Foundation
import NIOCore

/// What an SSH client connection needs to log in and which server it trusts.
struct SSHCredentials: Sendable {
    let user: String
    let password: String?
    let privateKey: SSHPrivateKey?
    /// `SHA256:…` (the prefix may be left out); any other host key is refused.
    let hostKeyFingerprint: String
    /// The host key algorithms to ask for, best first (a server has one key per type; the pinned one may be any).
    var hostKeyAlgorithms = SSHHostKey.algorithms
    /// The key exchanges and ciphers to offer, best first (all Sluice has; tests narrow them to try each).
    var kexAlgorithms = SSHKeyExchange.kexAlgorithms
    var ciphers = SSHKeyExchange.ciphers
    /// After this many bytes with one set of keys the client starts a key re-exchange itself (as OpenSSH's client
    /// does; servers usually ask first).
    var rekeyBytes = 1 << 30
}

/// The client side of an SSH connection (RFC 4253, 4252, 4254) that runs one subsystem on one session channel: the
/// version exchange, key exchange (and any re-key the server asks for), the host key check against a pinned
/// fingerprint, a key or password login, then the subsystem's bytes in both directions with flow control.
///
/// Below it in the pipeline is the TCP socket; above it the subsystem's handler, which reads and writes plain
/// `ByteBuffer`s once `ready` has succeeded. Any failure fails `ready` (or, later, reaches the handler above as an
/// error) and closes the connection.
final class SSHClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let clientVersion = "SSH-2.0-Sluice"
    /// The receive window of the session channel, topped up when half is used; sized so 32 reads of 255 KB flow.
    static let windowSize: UInt32 = 16 << 20
    /// The largest channel data packet the server may send us.
    static let maximumData: UInt32 = 128 << 10

    private enum Stage { case version, firstKex, service, auth, opening, subsystem, open, closed }

    let ready: EventLoopPromise<Void>
    private let credentials: SSHCredentials
    private let subsystem: String
    private let timeout: TimeAmount
    private var stage = Stage.version
    private var inbound = ByteBuffer()
    private var codec = SSHPacketCodec()
    private var wroteSinceFlush = false
    private var handshakeTimer: Scheduled<Void>?

    // Key exchange.
    private var serverVersion: [UInt8] = []
    private var clientKexInit: [UInt8]?
    private var serverKexInit: [UInt8]?
    private var algorithms: SSHAlgorithms?
    private var ephemeral: SSHEphemeral?
    private var pendingOpening: (key: [UInt8], iv: [UInt8])?
    private var sessionID: [UInt8]?
    private var hostKeyBlob: [UInt8]?
    private var strict = false
    /// Key exchanges completed: the first, then each re-key.
    private(set) var keyExchanges = 0
    /// Messages held back while a key exchange runs (RFC 4253 §7.1 allows only key exchange messages then).
    private var held: [[UInt8]] = []

    // Login.
    private var offers: [String] = []
    private var serverMethods: [String] = []

    // The session channel.
    private var remoteChannel: UInt32 = 0
    private var remoteWindow: UInt64 = 0
    private var remoteMaximumData = 32 << 10
    private var unacknowledged: UInt32 = 0
    private var outbound = ByteBuffer()

    init(credentials: SSHCredentials, subsystem: String, timeout: TimeAmount, ready: EventLoopPromise<Void>) {
        self.credentials = credentials
        self.subsystem = subsystem
        self.timeout = timeout
        self.ready = ready
        if let key = credentials.privateKey { offers = key.signatureAlgorithms }
        if credentials.password != nil { offers.append("password") }
    }

    func channelActive(context: ChannelHandlerContext) {
        var hello = context.channel.allocator.buffer(capacity: 64)
        hello.writeString(Self.clientVersion + "\r\n")
        context.write(wrapOutboundOut(hello), promise: nil)
        startKex(context)
        context.flush()
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let seconds = timeout.nanoseconds / 1_000_000_000
        handshakeTimer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            guard handler.stage != .open, handler.stage != .closed else { return }
            handler.fail(SSHError.loginRefused("no SSH session within \(seconds) s (the server did not finish the handshake)"), context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if inbound.readableBytes == 0 { inbound = bytes } else { inbound.writeBuffer(&bytes) }
        do {
            if stage == .version { try readVersion() }
            while stage != .version, stage != .closed, let payload = try codec.open(&inbound) {
                try handle(payload, context)
            }
            renewKeysIfDue(context)
            // Moving a partial packet to the front costs a copy: only once a megabyte of read bytes sits before it.
            if inbound.readerIndex > 1 << 20 { inbound.discardReadBytes() }
        } catch {
            fail(error, context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfWritten(context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard stage == .open else {
            promise?.fail(SSHError.disconnected("the SSH session is not open"))
            return
        }
        var bytes = unwrapOutboundIn(data)
        outbound.writeBuffer(&bytes)
        pumpOutbound(context)
        renewKeysIfDue(context)
        promise?.succeed(())
    }

    func flush(context: ChannelHandlerContext) { flushIfWritten(context) }

    func channelInactive(context: ChannelHandlerContext) {
        if stage != .closed {
            let wasOpen = stage == .open
            let error = SSHError.disconnected(wasOpen ? "the connection was lost" : "the connection closed during the SSH handshake")
            stage = .closed
            handshakeTimer?.cancel()
            if !wasOpen { ready.fail(error) }
            context.fireErrorCaught(error)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { fail(error, context) }

    // MARK: Failing

    private func fail(_ error: any Error, _ context: ChannelHandlerContext) {
        guard stage != .closed else { return }
        let wasOpen = stage == .open
        stage = .closed
        handshakeTimer?.cancel()
        if !wasOpen { ready.fail(error) }
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    // MARK: Sending

    private func send(_ payload: [UInt8], _ context: ChannelHandlerContext) {
        // Only key exchange and transport messages may pass while a key exchange runs.
        if clientKexInit != nil, let type = payload.first, type > SSHMessage.kexECDHReply || (type >= SSHMessage.serviceRequest && type < SSHMessage.kexInit) {
            held.append(payload)
            return
        }
        var packet = context.channel.allocator.buffer(capacity: payload.count + 64)
        codec.seal(payload, into: &packet)
        context.write(wrapOutboundOut(packet), promise: nil)
        wroteSinceFlush = true
    }

    private func flushIfWritten(_ context: ChannelHandlerContext) {
        guard wroteSinceFlush else { return }
        wroteSinceFlush = false
        context.flush()
    }

    /// Sends the subsystem's bytes as channel data, as far as the server's window allows.
    private func pumpOutbound(_ context: ChannelHandlerContext) {
        while outbound.readableBytes > 0, remoteWindow > 0, clientKexInit == nil {
            let count = min(outbound.readableBytes, remoteMaximumData, Int(min(remoteWindow, UInt64(Int.max))))
            var w = SSHWriter(SSHMessage.channelData)
            w.uint32(remoteChannel)
            w.string(outbound.readableBytesView.prefix(count))
            outbound.moveReaderIndex(forwardBy: count)
            remoteWindow -= UInt64(count)
            send(w.bytes, context)
        }
        outbound.discardReadBytes()
    }

    // MARK: Receiving

    private func readVersion() throws(SSHError) {
        // Servers may send lines before their version (RFC 4253 §4.2); a bounded number of them.
        while let newline = inbound.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(inbound.readableBytesView[inbound.readerIndex..<newline])
            inbound.moveReaderIndex(to: newline + 1)
            let text = line.last == 13 ? Array(line.dropLast()) : line
            if text.starts(with: Array("SSH-".utf8)) {
                guard text.starts(with: Array("SSH-2.0-".utf8)) || text.starts(with: Array("SSH-1.99-".utf8)) else {
                    throw .unsupported("the server speaks \(Self.printable(String(decoding: text, as: UTF8.self))), not SSH 2")
                }
                serverVersion = text
                stage = .firstKex
                return
            }
        }
        if inbound.readerIndex > 16 << 10 || inbound.readableBytes > 1024 { throw .protocolError("the server sent no SSH version line") }
    }

    private func handle(_ payload: ByteBuffer, _ context: ChannelHandlerContext) throws {
        guard let type = payload.getInteger(at: payload.readerIndex, as: UInt8.self) else { throw SSHError.protocolError("an empty message") }
        if type == SSHMessage.channelData, stage == .open {
            var data = payload
            data.moveReaderIndex(forwardBy: 5)
            guard let length = data.readInteger(as: UInt32.self), let bytes = data.readSlice(length: Int(length)) else { throw SSHError.protocolError("a short channel data message") }
            try consumedWindow(Int(length), context)
            context.fireChannelRead(wrapInboundOut(bytes))
            return
        }
        if stage == .firstKex, strict, type != SSHMessage.kexInit, type != SSHMessage.kexECDHReply, type != SSHMessage.newKeys, type != SSHMessage.disconnect {
            throw SSHError.protocolError("message \(type) during a strict key exchange")
        }
        var r = SSHReader(payload.readableBytesView)
        _ = try r.byte()
        switch type {
        case SSHMessage.disconnect:
            _ = try r.uint32()
            throw SSHError.disconnected(Self.printable(try r.text()))
        case SSHMessage.ignore, SSHMessage.debug, SSHMessage.extInfo, SSHMessage.userauthBanner, SSHMessage.requestSuccess, SSHMessage.requestFailure, SSHMessage.channelEOF:
            break
        case SSHMessage.unimplemented:
            throw SSHError.protocolError("the server did not understand a message")
        case SSHMessage.kexInit:
            try receivedKexInit(Array(payload.readableBytesView), context)
        case SSHMessage.kexECDHReply:
            try receivedECDHReply(&r, context)
        case SSHMessage.newKeys:
            guard let keys = pendingOpening else { throw SSHError.protocolError("NEWKEYS outside a key exchange") }
            codec.startOpening(key: keys.key, iv: keys.iv, resetCount: strict)
            pendingOpening = nil
            if stage == .firstKex {
                stage = .service
                var w = SSHWriter(SSHMessage.serviceRequest)
                w.string("ssh-userauth")
                send(w.bytes, context)
            }
        case SSHMessage.serviceAccept:
            guard stage == .service else { throw SSHError.protocolError("an unexpected SERVICE_ACCEPT") }
            stage = .auth
            try offerNextLogin(context)
        case SSHMessage.userauthFailure:
            guard stage == .auth else { throw SSHError.protocolError("an unexpected USERAUTH_FAILURE") }
            serverMethods = try r.nameList()
            try offerNextLogin(context)
        case SSHMessage.userauthPasswordChange:
            throw SSHError.loginRefused("the server asks '\(credentials.user)' to change the password first")
        case SSHMessage.userauthSuccess:
            guard stage == .auth else { throw SSHError.protocolError("an unexpected USERAUTH_SUCCESS") }
            stage = .opening
            var w = SSHWriter(SSHMessage.channelOpen)
            w.string("session")
            w.uint32(0)
            w.uint32(Self.windowSize)
            w.uint32(Self.maximumData)
            send(w.bytes, context)
        case SSHMessage.globalRequest:
            _ = try r.text()
            if try r.bool() { send([SSHMessage.requestFailure], context) }
        case SSHMessage.channelOpenConfirmation:
            guard stage == .opening else { throw SSHError.protocolError("an unexpected CHANNEL_OPEN_CONFIRMATION") }
            _ = try r.uint32()
            remoteChannel = try r.uint32()
            remoteWindow = UInt64(try r.uint32())
            remoteMaximumData = max(1024, min(Int(try r.uint32()), 256 << 10))
            stage = .subsystem
            var w = SSHWriter(SSHMessage.channelRequest)
            w.uint32(remoteChannel)
            w.string("subsystem")
            w.bool(true)
            w.string(subsystem)
            send(w.bytes, context)
        case SSHMessage.channelOpenFailure:
            _ = try r.uint32(); _ = try r.uint32()
            throw SSHError.loginRefused("the server refused a session: \(Self.printable(try r.text()))")
        case SSHMessage.channelSuccess:
            if stage == .subsystem {
                stage = .open
                handshakeTimer?.cancel()
                ready.succeed(())
            }
        case SSHMessage.channelFailure:
            if stage == .subsystem { throw SSHError.unsupported("the server has no \(subsystem) subsystem") }
        case SSHMessage.channelWindowAdjust:
            _ = try r.uint32()
            remoteWindow = min(remoteWindow + UInt64(try r.uint32()), UInt64(UInt32.max))
            pumpOutbound(context)
        case SSHMessage.channelData:
            break
        case SSHMessage.channelExtendedData:
            _ = try r.uint32(); _ = try r.uint32()
            try consumedWindow(try r.string().count, context)
        case SSHMessage.channelClose:
            throw SSHError.disconnected("the server closed the \(subsystem) session")
        case SSHMessage.channelRequest:
            _ = try r.uint32()
            _ = try r.text()
            if try r.bool() {
                var w = SSHWriter(SSHMessage.channelFailure)
                w.uint32(remoteChannel)
                send(w.bytes, context)
            }
        default:
            var w = SSHWriter(SSHMessage.unimplemented)
            w.uint32(codec.received &- 1)
            send(w.bytes, context)
        }
    }

    /// Counts received channel bytes and gives the window back once half of it is used.
    private func consumedWindow(_ count: Int, _ context: ChannelHandlerContext) throws(SSHError) {
        guard UInt64(unacknowledged) + UInt64(count) <= UInt64(Self.windowSize) else { throw .protocolError("the server sent more than the window allows") }
        unacknowledged += UInt32(count)
        guard unacknowledged >= Self.windowSize / 2 else { return }
        var w = SSHWriter(SSHMessage.channelWindowAdjust)
        w.uint32(remoteChannel)
        w.uint32(unacknowledged)
        unacknowledged = 0
        send(w.bytes, context)
    }

    /// Text the server chose, made safe for logs and terminals: control characters dropped, at most 200 characters.
    static func printable(_ text: String) -> String {
        let kept = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .control }))
        return kept.count > 200 ? String(kept.prefix(200)) + "…" : kept
    }

    // MARK: Key exchange

    /// Starts a key re-exchange once the current keys carried `rekeyBytes`, unless one already runs.
    private func renewKeysIfDue(_ context: ChannelHandlerContext) {
        guard stage == .open, clientKexInit == nil, codec.volume > credentials.rekeyBytes else { return }
        startKex(context)
    }

    private func startKex(_ context: ChannelHandlerContext) {
        let payload = SSHKeyExchange.clientKexInit(initial: sessionID == nil, credentials)
        var packet = context.channel.allocator.buffer(capacity: payload.count + 64)
        codec.seal(payload, into: &packet)
        context.write(wrapOutboundOut(packet), promise: nil)
        wroteSinceFlush = true
        clientKexInit = payload
    }

    private func receivedKexInit(_ payload: [UInt8], _ context: ChannelHandlerContext) throws {
        guard serverKexInit == nil else { throw SSHError.protocolError("a second KEXINIT during a key exchange") }
        if clientKexInit == nil { startKex(context) }
        serverKexInit = payload
        let agreed = try SSHKeyExchange.negotiate(client: clientKexInit!, server: payload, strictAlready: strict)
        if sessionID == nil, agreed.strict, codec.received != 1 {
            throw SSHError.protocolError("strict key exchange: KEXINIT was not the server's first message")
        }
        strict = agreed.strict
        algorithms = agreed
        let key = SSHEphemeral(kex: agreed.kex)
        ephemeral = key
        var w = SSHWriter(SSHMessage.kexECDHInit)
        w.string(key.publicBytes)
        send(w.bytes, context)
    }

    private func receivedECDHReply(_ r: inout SSHReader, _ context: ChannelHandlerContext) throws {
        guard let ephemeral, let algorithms, let clientKexInit, let serverKexInit else { throw SSHError.protocolError("an unexpected ECDH reply") }
        let hostKey = try r.string(), serverPublic = try r.string(), signature = try r.string()
        if let known = hostKeyBlob {
            guard known == hostKey else { throw SSHError.protocolError("the server presented another host key when re-keying") }
        } else {
            let seen = SSHHostKey.fingerprint(hostKey)
            let pinned = credentials.hostKeyFingerprint
            guard !pinned.isEmpty, seen == pinned || seen == "SHA256:" + pinned else {
                throw SSHError.hostKeyMismatch(seen: seen, algorithm: algorithms.hostKey, offered: algorithms.serverHostKeys)
            }
        }
        let secret: [UInt8]
        do { secret = try ephemeral.sharedSecret(serverPublic) } catch { throw SSHError.protocolError("the server's key exchange value is invalid") }
        var h = SSHWriter()
        h.string(Array(Self.clientVersion.utf8))
        h.string(serverVersion)
        h.string(clientKexInit)
        h.string(serverKexInit)
        h.string(hostKey)
        h.string(ephemeral.publicBytes)
        h.string(serverPublic)
        h.mpint(unsigned: secret)
        let hash = SSHEphemeral.hash(algorithms.kex, h.bytes)
        guard try SSHHostKey.verify(blob: hostKey, signature: signature, data: hash, algorithm: algorithms.hostKey) else {
            throw SSHError.protocolError("the server's signature of the key exchange does not verify with its host key")
        }
        if sessionID == nil {
            sessionID = hash
            hostKeyBlob = hostKey
        }
        keyExchanges += 1
        func derive(_ letter: Character, _ length: Int) -> [UInt8] {
            SSHKeyExchange.derive(letter, secret: secret, hash: hash, sessionID: sessionID!, length: length, kex: algorithms.kex)
        }
        pendingOpening = (derive("D", SSHPacketCodec.keyLength(algorithms.cipherFromServer)), derive("B", 12))
        send([SSHMessage.newKeys], context)
        codec.startSealing(key: derive("C", SSHPacketCodec.keyLength(algorithms.cipherToServer)), iv: derive("A", 12), resetCount: strict)
        self.clientKexInit = nil
        self.serverKexInit = nil
        self.ephemeral = nil
        let waiting = held
        held = []
        for payload in waiting { send(payload, context) }
        pumpOutbound(context)
    }

    // MARK: Login

    /// Offers the next login: the key (with each signature algorithm it has), then the password; fails when
    /// nothing the server still accepts is left.
    private func offerNextLogin(_ context: ChannelHandlerContext) throws {
        while let offer = offers.first {
            offers.removeFirst()
            let method = offer == "password" ? "password" : "publickey"
            if !serverMethods.isEmpty, !serverMethods.contains(method) { continue }
            var w = SSHWriter(SSHMessage.userauthRequest)
            w.string(credentials.user)
            w.string("ssh-connection")
            w.string(method)
            if method == "password", let password = credentials.password {
                w.bool(false)
                w.string(password)
            } else if let key = credentials.privateKey, let sessionID {
                let blob = key.publicKeyBlob
                w.bool(true)
                w.string(offer)
                w.string(blob)
                var signed = SSHWriter()
                signed.string(sessionID)
                signed.raw(w.bytes)
                w.string(try key.sign(signed.bytes, algorithm: offer))
            }
            send(w.bytes, context)
            return
        }
        let tried = [credentials.privateKey == nil ? nil : "key", credentials.password == nil ? nil : "password"].compactMap { $0 }.joined(separator: " and ")
        throw SSHError.loginRefused("the server refused the \(tried) of '\(credentials.user)' (it accepts: \(serverMethods.joined(separator: ", ")))")
    }
}
