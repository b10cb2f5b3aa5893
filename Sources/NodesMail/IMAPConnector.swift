import Foundation
public import NodeKit

/// The `imap` connector: a mailbox server and how to log in; it proves a connection by listing the
/// mailboxes, and watches a mailbox for mailbox triggers.
public enum IMAPConnector: MailboxWatching {
    enum Security: String, Choice { case tls, none }

    static let host = Field<String>("host", summary: "IMAP server host name or address.", example: "imap.example.com")
    static let port = Field<Int?>("port", summary: "Server port: 993 with TLS, 143 without, when not given.", example: "993")
    static let security = Field<Security>("security", summary: "tls (implicit TLS, the standard for port 993) or none (plain text; loopback and tests only).", default: .tls)
    static let verify = Field<Bool>("verify_certificate", summary: "Check the server's certificate against the trusted roots (and ca_file).", default: true)
    static let caFile = Field<String?>("ca_file", summary: "A PEM file with extra certificate authorities to trust (a company CA).", example: "/etc/ssl/company-ca.pem")
    static let user = Field<String>("user", summary: "Login name.", example: "invoices@example.com")
    static let password = Field<String?>("password", summary: "Password or app password (a secret: write it as ${env:NAME} or ${file:PATH}).", example: "${env:MAIL_PASSWORD}")

    public static let spec = ConnectionSpec(type: "imap", summary: "An IMAP mail server (IMAP4rev1 / RFC 9051), for mailbox triggers.",
                                            fields: [host.spec, port.spec, security.spec, verify.spec, caFile.spec, user.spec, password.spec],
                                            secretFields: ["password"])
}

/// A resolved IMAP endpoint. Its description names host, port and user, never the password.
public struct IMAPEndpoint: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let useTLS: Bool
    public let verifyCertificate: Bool
    public let caFile: String?
    public let user: String
    let password: Secret?

    /// Reads an `imap` connection's settings.
    public init(_ connection: Connection) throws(ConfigError) {
        let fields = connection.fields
        host = try fields[IMAPConnector.host]
        useTLS = try fields[IMAPConnector.security] == .tls
        port = try fields[IMAPConnector.port] ?? (useTLS ? 993 : 143)
        verifyCertificate = try fields[IMAPConnector.verify]
        caFile = try fields[IMAPConnector.caFile]
        user = try fields[IMAPConnector.user]
        password = connection.secrets["password"]
    }

    public var description: String { "IMAP server \(host):\(port)\(useTLS ? " (TLS)" : ""), user \(user)" }
}

extension IMAPConnector {
    /// Logs in and lists the mailboxes.
    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        let endpoint = try endpoint(connection)
        let mailboxes = try await IMAPClient.withSession(endpoint) { session in try await session.listMailboxes() }
        let shown = mailboxes.prefix(10).joined(separator: ", ") + (mailboxes.count > 10 ? ", …" : "")
        return ConnectionCheckResult(message: "logged in to \(endpoint); \(mailboxes.count) mailbox(es): \(shown)")
    }

    /// Examines the mailbox (read-only) and, when asked and its UID validity is the one the caller knows, reads the
    /// matching messages after the given UID: sizes first, then each message whole or (too large) its header.
    public static func scan(_ connection: Connection, _ request: MailboxScanRequest) async throws -> MailboxScan {
        try await IMAPClient.withSession(try endpoint(connection), maxLiteral: request.maxMessageBytes + 65_536) { session in
            let mailbox = try await session.examine(request.mailbox)
            let validity = Int64(mailbox.uidValidity)
            // The highest UID in the mailbox now (UIDNEXT - 1; servers without UIDNEXT are searched).
            let end: Int64
            if let next = mailbox.uidNext { end = Int64(next) - 1 } else { end = Int64(try await session.uidSearch(["ALL"]).last ?? 0) }
            var scan = MailboxScan(uidValidity: validity, lastUID: end, exists: Int(mailbox.exists))
            guard let after = request.afterUID, request.uidValidity == nil || request.uidValidity == validity else { return scan }
            var criteria: [IMAPArgument] = ["UID", .atom("\(after + 1):*")]
            if let from = request.from { criteria += ["FROM", .string(from)] }
            if let to = request.to { criteria += ["TO", .string(to)] }
            if let subject = request.subject { criteria += ["SUBJECT", .string(subject)] }
            // "N:*" always includes the highest UID, even below N: keep only UIDs after the last one handled.
            let matching = try await session.uidSearch(criteria).filter { Int64($0) > after }
            let batch = Array(matching.prefix(request.maxMessages))
            scan.moreWaiting = matching.count > batch.count
            let sizes = Dictionary(try await session.uidFetch(batch, items: "UID RFC822.SIZE INTERNALDATE").compactMap { fetch in
                fetch.uid.map { ($0, (size: fetch.size ?? 0, received: fetch.internalDate)) }
            }, uniquingKeysWith: { first, _ in first })
            for uid in batch {
                guard let info = sizes[uid] else { continue } // expunged since the search
                let tooLarge = info.size > request.maxMessageBytes
                let fetched = try await session.uidFetch([uid], items: tooLarge ? "UID BODY.PEEK[HEADER]" : "UID BODY.PEEK[]")
                guard let fetch = fetched.first(where: { $0.uid == uid }),
                      let bytes = fetch.body ?? fetch.attributes["BODY[HEADER]"]?.bytes else { continue }
                let message = MailMessage(bytes)
                scan.messages.append(MailboxMessage(
                    uid: Int64(uid), messageID: message.messageID, from: message.from, fromAddress: MailMessage.addresses(message.from).first ?? "",
                    to: message.to, cc: message.cc, subject: message.subject, date: message.date, receivedAt: info.received.flatMap(internalDate),
                    size: info.size, tooLarge: tooLarge, body: tooLarge ? "" : message.bodyText,
                    attachments: message.attachments.map { .init(fileName: $0.fileName, contentType: $0.contentType, bytes: $0.bytes) }))
            }
            return scan
        }
    }

    static func endpoint(_ connection: Connection) throws -> IMAPEndpoint {
        do { return try IMAPEndpoint(connection) } catch { throw NodeError(code: error.code, message: error.message) }
    }

    /// IMAP's INTERNALDATE (`17-Jul-1996 02:44:25 -0700`) as ISO-8601 in UTC.
    static func internalDate(_ text: String) -> String? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "d-MMM-yyyy HH:mm:ss Z"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces)).map { ISO8601DateFormatter().string(from: $0) }
    }
}
