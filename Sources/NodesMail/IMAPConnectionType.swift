public import NodeKit

/// The `imap` connection type: a mailbox server and how to log in.
public enum IMAPConnectionType {
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
        host = try fields[IMAPConnectionType.host]
        useTLS = try fields[IMAPConnectionType.security] == .tls
        port = try fields[IMAPConnectionType.port] ?? (useTLS ? 993 : 143)
        verifyCertificate = try fields[IMAPConnectionType.verify]
        caFile = try fields[IMAPConnectionType.caFile]
        user = try fields[IMAPConnectionType.user]
        password = connection.secrets["password"]
    }

    public var description: String { "IMAP server \(host):\(port)\(useTLS ? " (TLS)" : ""), user \(user)" }
}

/// Proves an `imap` connection works: logs in and lists the mailboxes (the server's connection test).
public enum IMAPConnectionCheck: ConnectionCheck {
    public static let connectionType = "imap"

    public static func check(_ connection: Connection) async throws -> String {
        let endpoint: IMAPEndpoint
        do { endpoint = try IMAPEndpoint(connection) } catch { throw NodeError(code: error.code, message: error.message) }
        let mailboxes = try await IMAPClient.withSession(endpoint) { session in try await session.listMailboxes() }
        let shown = mailboxes.prefix(10).joined(separator: ", ") + (mailboxes.count > 10 ? ", …" : "")
        return "logged in to \(endpoint); \(mailboxes.count) mailbox(es): \(shown)"
    }
}
