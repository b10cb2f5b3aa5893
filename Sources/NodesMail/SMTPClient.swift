import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NodeKit

/// An SMTP client on SwiftNIO (RFC 5321) with what sending needs: EHLO, STARTTLS (RFC 3207), AUTH PLAIN and LOGIN
/// (RFC 4954), PIPELINING (RFC 2920) where offered, SIZE, and dot-stuffed DATA. Sessions are scoped: `withSession`
/// connects, says hello, secures and authenticates the connection, runs the body and says QUIT.
public enum SMTPClient {
    /// Connects (implicit TLS, or STARTTLS when the endpoint says so: never falling back to plain text), reads the
    /// greeting, says EHLO, logs in when the endpoint has a user, runs `body`, then QUITs and closes. A server silent
    /// for `timeout` ends the session with an error.
    public static func withSession<Result: Sendable>(_ endpoint: SMTPEndpoint, timeout: TimeAmount = .seconds(60),
                                                     _ body: (SMTPSession) async throws -> Result) async throws -> Result {
        let tls = try tlsContext(endpoint)
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(15))
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handlers = channel.pipeline.syncOperations
                        if endpoint.security == .tls, let tls {
                            try handlers.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: endpoint.serverName))
                        }
                        try handlers.addHandler(IdleStateHandler(readTimeout: timeout))
                        try handlers.addHandler(IdleCloser())
                        try handlers.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw NodeError(code: "connection_failed", message: "cannot connect to \(endpoint)", isRetryable: true, cause: "\(error)")
        }
        let seconds = timeout.nanoseconds / 1_000_000_000
        let raw = channel.channel
        return try await channel.executeThenClose { inbound, outbound in
            let session = SMTPSession(endpoint: endpoint, replies: inbound.makeAsyncIterator(), outbound: outbound, timeoutSeconds: seconds) {
                guard let tls else { return }
                try await raw.eventLoop.submit {
                    try raw.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: endpoint.serverName), position: .first)
                }.get()
            }
            try await session.start()
            let result = try await body(session)
            await session.quit()
            return result
        }
    }

    static func tlsContext(_ endpoint: SMTPEndpoint) throws -> NIOSSLContext? {
        guard endpoint.security != .none else { return nil }
        return try MailTLS.context(verifyCertificate: endpoint.verifyCertificate, caFile: endpoint.caFile, for: endpoint)
    }
}

/// What became of one message: the recipients the server took, and those it refused with its reply.
public struct SMTPDelivery: Sendable {
    public var accepted: [String] = []
    public var refused: [(recipient: String, reply: String)] = []
    /// The server's answer to the message itself (`250 2.0.0 Ok: queued as …`), when it was sent.
    public var reply: String?
}

/// A connected, greeted (and, when configured, secured and logged-in) SMTP session; used only inside
/// `SMTPClient.withSession`, one message at a time.
public final class SMTPSession {
    let endpoint: SMTPEndpoint
    private var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let timeoutSeconds: Int64
    private let startTLS: () async throws -> Void
    /// The EHLO keywords the server offered, uppercased (`PIPELINING`, `STARTTLS`, `AUTH`, `SIZE`, …) with their parameters.
    private(set) var extensions: [String: [String]] = [:]

    init(endpoint: SMTPEndpoint, replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
         timeoutSeconds: Int64, startTLS: @escaping () async throws -> Void) {
        self.endpoint = endpoint
        self.replies = replies
        self.outbound = outbound
        self.timeoutSeconds = timeoutSeconds
        self.startTLS = startTLS
    }

    /// The greeting, EHLO, STARTTLS and a second EHLO when asked for, then AUTH when the endpoint has a user.
    func start() async throws {
        let greeting = try await next()
        guard greeting.code == 220 else { throw failure("the server refused the connection: \(greeting)", retryable: greeting.isTransient) }
        try await hello()
        if endpoint.security == .starttls {
            guard extensions["STARTTLS"] != nil else {
                throw failure("the server does not offer STARTTLS; use security: tls (port 465) if it speaks TLS from the start, or none only on a trusted network")
            }
            try await expect(command("STARTTLS"), 220, "STARTTLS")
            try await startTLS()
            try await hello()
        }
        if let user = endpoint.user { try await authenticate(user, password: endpoint.password?.reveal() ?? "") }
    }

    /// How the server greeted the last EHLO: its name and what it offers (for connection tests).
    public var offered: String { extensions.keys.sorted().joined(separator: " ") }

    private func hello() async throws {
        let reply = try await command("EHLO \(endpoint.heloName)")
        guard reply.code == 250 else { throw failure("the server refused EHLO: \(reply)") }
        extensions = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            extensions[keyword] = Array(words.dropFirst())
        }
    }

    /// AUTH PLAIN when offered (one round trip), else AUTH LOGIN. A refusal is `login_failed`, naming the user and never the password.
    private func authenticate(_ user: String, password: String) async throws {
        let mechanisms = Set((extensions["AUTH"] ?? []).map { $0.uppercased() })
        let reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            reply = try await command("AUTH PLAIN " + Data(("\0" + user + "\0" + password).utf8).base64EncodedString())
        } else if mechanisms.contains("LOGIN") {
            let first = try await command("AUTH LOGIN")
            guard first.code == 334 else { throw loginFailure(first) }
            let second = try await command(Data(user.utf8).base64EncodedString())
            guard second.code == 334 else { throw loginFailure(second) }
            reply = try await command(Data(password.utf8).base64EncodedString())
        } else if mechanisms.isEmpty {
            throw failure("the server offers no login (AUTH) on this connection\(endpoint.security == .none ? "; many servers offer it only after STARTTLS" : ""); remove user to send without logging in")
        } else {
            throw failure("the server offers login by \(mechanisms.sorted().joined(separator: ", ")); Sluice speaks PLAIN and LOGIN")
        }
        guard reply.code == 235 else { throw loginFailure(reply) }
    }

    private func loginFailure(_ reply: SMTPReply) -> NodeError {
        NodeError(code: "login_failed", message: "\(endpoint) refused the login: \(reply)", isRetryable: reply.isTransient)
    }

    /// Sends one message: MAIL FROM, one RCPT TO per recipient, DATA (all in one write when the server offers
    /// PIPELINING). Refused recipients are reported, not thrown; the message goes to the others. When the server
    /// takes no recipient the message is not sent (`reply` stays nil). A refused sender or message throws `smtp_refused`.
    public func send(from sender: String, to recipients: [String], message: [UInt8]) async throws -> SMTPDelivery {
        if let limit = extensions["SIZE"]?.first.flatMap(Int.init), limit > 0, message.count > limit {
            throw NodeError(code: "message_too_large", message: "the message is \(message.count) bytes; \(endpoint) takes at most \(limit)")
        }
        let utf8 = ([sender] + recipients).contains { !$0.allSatisfy(\.isASCII) }
        if utf8, extensions["SMTPUTF8"] == nil {
            throw NodeError(code: "invalid_address", message: "an address has non-ASCII characters and \(endpoint) does not offer SMTPUTF8")
        }
        var mail = "MAIL FROM:<\(sender)>"
        if extensions["SIZE"] != nil { mail += " SIZE=\(message.count)" }
        if utf8 { mail += " SMTPUTF8" }
        let commands = [mail] + recipients.map { "RCPT TO:<\($0)>" } + ["DATA"]
        var answers: [SMTPReply] = []
        if extensions["PIPELINING"] != nil {
            try await send(commands.map { $0 + "\r\n" }.joined())
            for _ in commands { answers.append(try await next()) }
        } else {
            for command in commands {
                let answer = try await self.command(command)
                answers.append(answer)
                if command == mail, !answer.isPositive { break }
            }
        }
        guard let mailAnswer = answers.first, mailAnswer.code == 250 else {
            try await reset()
            throw NodeError(code: "smtp_refused", message: "\(endpoint) refused the sender <\(sender)>: \(answers.first.map(\.description) ?? "no answer")",
                            isRetryable: answers.first?.isTransient ?? true)
        }
        var delivery = SMTPDelivery()
        for (recipient, answer) in zip(recipients, answers.dropFirst()) {
            if answer.code == 250 || answer.code == 251 { delivery.accepted.append(recipient) } else { delivery.refused.append((recipient, answer.description)) }
        }
        guard answers.count == commands.count, let dataAnswer = answers.last, dataAnswer.code == 354 else {
            try await reset()
            if delivery.accepted.isEmpty { return delivery }
            throw NodeError(code: "smtp_refused", message: "\(endpoint) refused to take the message: \(answers.last.map(\.description) ?? "no answer")",
                            isRetryable: answers.last?.isTransient ?? true)
        }
        if delivery.accepted.isEmpty {
            // The server said 354 though it took no recipient: end the empty transaction without a message.
            try await send(".\r\n")
            _ = try await next()
            return delivery
        }
        try await outbound.write(ByteBuffer(bytes: Self.dotStuffed(message)))
        let final = try await next()
        guard final.code == 250 else {
            throw NodeError(code: "smtp_refused", message: "\(endpoint) refused the message: \(final)", isRetryable: final.isTransient)
        }
        delivery.reply = final.description
        return delivery
    }

    /// The message for DATA: line breaks as CRLF, a `.` doubled at the start of a line, the end marked by `CRLF.CRLF`.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 5)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in message {
            if byte == UInt8(ascii: "\n") {
                if previous != UInt8(ascii: "\r") { out.append(UInt8(ascii: "\r")) }
                out.append(byte)
                atLineStart = true
            } else {
                if previous == UInt8(ascii: "\r") && byte != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\n")); atLineStart = true }
                if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
                out.append(byte)
                atLineStart = false
            }
            previous = byte
        }
        if previous == UInt8(ascii: "\r") { out.append(UInt8(ascii: "\n")) } else if !out.isEmpty && previous != UInt8(ascii: "\n") { out += [13, 10] }
        out += Array(".\r\n".utf8)
        return out
    }

    /// Ends a failed transaction so the next message starts clean.
    private func reset() async throws {
        _ = try await command("RSET")
    }

    /// Says goodbye; errors are ignored (the connection closes either way).
    func quit() async {
        _ = try? await command("QUIT")
    }

    @discardableResult
    private func command(_ line: String) async throws -> SMTPReply {
        guard !line.contains("\r"), !line.contains("\n") else { throw failure("a command may not hold a line break") }
        try await send(line + "\r\n")
        return try await next()
    }

    private func expect(_ reply: SMTPReply, _ code: Int, _ what: String) async throws {
        guard reply.code == code else { throw failure("\(what) failed: \(reply)", retryable: reply.isTransient) }
    }

    private func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    private func next() async throws -> SMTPReply {
        do {
            guard let reply = try await replies.next() else {
                throw failure("the connection closed (or the server sent nothing for \(timeoutSeconds) s)", retryable: true)
            }
            return reply
        } catch let error as NodeError {
            throw error
        } catch let error as SMTPProtocolError {
            throw failure(error.message)
        } catch {
            throw failure("the connection failed: \(error)", retryable: true)
        }
    }

    private func failure(_ message: String, retryable: Bool = false) -> NodeError {
        NodeError(code: "smtp_failed", message: "\(endpoint): \(message)", isRetryable: retryable)
    }
}
