import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NodeKit

/// An IMAP client on SwiftNIO with just what mailbox triggers need: LOGIN, LIST, EXAMINE, UID SEARCH,
/// UID FETCH and LOGOUT. Sessions are scoped: `withSession` connects, logs in, runs the body and logs out.
public enum IMAPClient {
    /// Connects (TLS when the endpoint says so), reads the greeting, logs in, runs `body`, then logs out and closes.
    /// A server silent for `timeout` ends the session with an error; literals over `maxLiteral` bytes fail it.
    public static func withSession<Result: Sendable>(_ endpoint: IMAPEndpoint, timeout: TimeAmount = .seconds(60), maxLiteral: Int = 64 << 20,
                                                     _ body: (IMAPSession) async throws -> Result) async throws -> Result {
        let tls = try tlsContext(endpoint)
        let serverName = endpoint.host.isIPAddress ? nil : endpoint.host
        let channel: NIOAsyncChannel<IMAPResponse, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(15))
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handlers = channel.pipeline.syncOperations
                        if let tls { try handlers.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                        try handlers.addHandler(IdleStateHandler(readTimeout: timeout))
                        try handlers.addHandler(IdleCloser())
                        try handlers.addHandler(ByteToMessageHandler(IMAPFrameDecoder(maxLiteral: maxLiteral)))
                        return try NIOAsyncChannel<IMAPResponse, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw NodeError(code: "connection_failed", message: "cannot connect to \(endpoint)", isRetryable: true, cause: "\(error)")
        }
        let seconds = timeout.nanoseconds / 1_000_000_000
        return try await channel.executeThenClose { inbound, outbound in
            let session = IMAPSession(endpoint: endpoint, responses: inbound.makeAsyncIterator(), outbound: outbound, timeoutSeconds: seconds)
            try await session.start()
            let result = try await body(session)
            await session.logout()
            return result
        }
    }

    static func tlsContext(_ endpoint: IMAPEndpoint) throws -> NIOSSLContext? {
        guard endpoint.useTLS else { return nil }
        return try MailTLS.context(verifyCertificate: endpoint.verifyCertificate, caFile: endpoint.caFile, for: endpoint)
    }
}

/// A command argument: a bare atom (`UID`, `1:*`) or a string, sent quoted or, when it holds line breaks or
/// non-ASCII text, as a literal.
public enum IMAPArgument: Sendable, ExpressibleByStringLiteral {
    case atom(String)
    case string(String)

    public init(stringLiteral value: String) { self = .atom(value) }
}

/// A mailbox opened read-only: its UID validity, the next UID it will assign, and its message count.
public struct IMAPMailboxStatus: Sendable {
    public let uidValidity: UInt32
    public let uidNext: UInt32?
    public let exists: UInt32
}

/// A logged-in IMAP session; used only inside `IMAPClient.withSession`, one command at a time.
public final class IMAPSession {
    let endpoint: IMAPEndpoint
    private var responses: NIOAsyncChannelInboundStream<IMAPResponse>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let timeoutSeconds: Int64
    private var tagNumber = 0

    init(endpoint: IMAPEndpoint, responses: NIOAsyncChannelInboundStream<IMAPResponse>.AsyncIterator,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, timeoutSeconds: Int64) {
        self.endpoint = endpoint
        self.responses = responses
        self.outbound = outbound
        self.timeoutSeconds = timeoutSeconds
    }

    /// Reads the greeting and logs in (unless the server pre-authenticated the connection).
    func start() async throws {
        guard case let .status(greeting) = try await next() else { throw failure("the server sent no greeting") }
        switch greeting.condition {
        case .ok: break
        case .preauth: return
        default: throw failure("the server refused the connection: \(greeting.text)", retryable: true)
        }
        do {
            try await run(["LOGIN", .string(endpoint.user), .string(endpoint.password?.reveal() ?? "")])
        } catch let error as NodeError where error.code == "imap_no" {
            throw NodeError(code: "login_failed", message: "\(endpoint) refused the login: \(error.cause ?? "no reason given")")
        }
    }

    /// The mailbox names on the server (decoded from IMAP's modified UTF-7).
    public func listMailboxes() async throws -> [String] {
        let (untagged, _) = try await run(["LIST", .string(""), .string("*")])
        return untagged.compactMap { response -> String? in
            guard case let .data(_, "LIST", values) = response, values.count >= 3, let name = values[2].text else { return nil }
            return ModifiedUTF7.decode(name)
        }
    }

    /// Opens `mailbox` read-only (EXAMINE: fetching never marks messages as seen).
    public func examine(_ mailbox: String) async throws -> IMAPMailboxStatus {
        let (untagged, _) = try await run(["EXAMINE", .string(ModifiedUTF7.encode(mailbox))], what: "mailbox '\(mailbox)'")
        var validity: UInt32?, next: UInt32?, exists: UInt32 = 0
        for response in untagged {
            switch response {
            case let .status(status):
                validity = status.codeNumber("UIDVALIDITY") ?? validity
                next = status.codeNumber("UIDNEXT") ?? next
            case let .data(count?, "EXISTS", _):
                exists = count
            default:
                break
            }
        }
        guard let validity else { throw failure("the server did not report UIDVALIDITY for mailbox '\(mailbox)'") }
        return IMAPMailboxStatus(uidValidity: validity, uidNext: next, exists: exists)
    }

    /// `UID SEARCH criteria` → the matching UIDs, ascending. Non-ASCII criteria are sent with `CHARSET UTF-8`.
    public func uidSearch(_ criteria: [IMAPArgument]) async throws -> [UInt32] {
        let needsCharset = criteria.contains { if case let .string(s) = $0 { !s.allSatisfy(\.isASCII) } else { false } }
        let (untagged, _) = try await run(["UID", "SEARCH"] + (needsCharset ? ["CHARSET", "UTF-8"] : []) + criteria)
        var uids: [UInt32] = []
        for case let .data(_, "SEARCH", values) in untagged { uids += values.compactMap(\.number) }
        return uids.sorted()
    }

    /// `UID FETCH uids (items)` → one `IMAPFetch` per message returned.
    public func uidFetch(_ uids: [UInt32], items: String) async throws -> [IMAPFetch] {
        guard !uids.isEmpty else { return [] }
        let (untagged, _) = try await run(["UID", "FETCH", .atom(uids.map(String.init).joined(separator: ",")), .atom("(\(items))")])
        return untagged.compactMap(IMAPFetch.init)
    }

    /// Says goodbye; errors are ignored (the connection closes either way).
    func logout() async {
        _ = try? await run(["LOGOUT"])
    }

    /// Sends one command and reads until its tagged answer. NO and BAD answers throw, naming the command.
    @discardableResult
    public func run(_ arguments: [IMAPArgument], what: String? = nil) async throws -> (untagged: [IMAPResponse], status: IMAPStatus) {
        tagNumber += 1
        let tag = "S\(tagNumber)"
        let verb = arguments.prefix(2).compactMap { if case let .atom(a) = $0 { a } else { nil } }.joined(separator: " ")
        var line = tag
        for argument in arguments {
            line += " "
            switch argument {
            case let .atom(atom): line += atom
            case let .string(text) where text.allSatisfy({ $0.isASCII && $0 != "\r" && $0 != "\n" }):
                line += "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case let .string(text):
                // A synchronizing literal: announce, wait for the server's "+", then send the bytes.
                let bytes = Array(text.utf8)
                try await send(line + "{\(bytes.count)}\r\n")
                guard case .continuation = try await next() else { throw failure("\(verb): the server did not accept a literal argument") }
                try await outbound.write(ByteBuffer(bytes: bytes))
                line = ""
            }
        }
        try await send(line + "\r\n")
        var untagged: [IMAPResponse] = []
        while true {
            let response = try await next()
            switch response {
            case let .tagged(answerTag, status) where answerTag == tag:
                guard status.condition == .ok else {
                    let reason = (status.code.map { "[\($0)] " } ?? "") + status.text
                    throw NodeError(code: status.condition == .no ? "imap_no" : "imap_bad",
                                    message: "\(endpoint): \(verb)\(what.map { " \($0)" } ?? "") failed: \(reason)", cause: reason)
                }
                return (untagged, status)
            case let .status(status) where status.condition == .bye && verb != "LOGOUT":
                throw failure("the server closed the session: \(status.text)", retryable: true)
            default:
                untagged.append(response)
            }
        }
    }

    private func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    private func next() async throws -> IMAPResponse {
        do {
            guard let response = try await responses.next() else {
                throw failure("the connection closed (or the server sent nothing for \(timeoutSeconds) s)", retryable: true)
            }
            return response
        } catch let error as NodeError {
            throw error
        } catch let error as IMAPProtocolError {
            throw failure(error.message)
        } catch {
            throw failure("the connection failed: \(error)", retryable: true)
        }
    }

    private func failure(_ message: String, retryable: Bool = false) -> NodeError {
        NodeError(code: "imap_failed", message: "\(endpoint): \(message)", isRetryable: retryable)
    }
}

extension String {
    /// True for an IPv4 or IPv6 literal (TLS sends no server name for those).
    var isIPAddress: Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, self, &v4) == 1 || inet_pton(AF_INET6, self, &v6) == 1
    }
}
