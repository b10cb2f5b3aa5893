import Foundation
public import NodeKit

/// The `smtp` connector: a mail server that takes outgoing mail, how to reach it securely and log in, and the
/// sender address. It proves a connection by saying hello and logging in, and delivers run notifications by e-mail.
public enum SMTPConnector: RunNotifying {
    /// How the connection is secured: TLS from the first byte (port 465), upgraded with STARTTLS (port 587), or not at all.
    public enum Security: String, Choice, Sendable { case tls, starttls, none }

    static let host = Field<String>("host", summary: "SMTP server host name or address.", example: "smtp.example.com")
    static let port = Field<Int?>("port", summary: "Server port: 465 with tls, 587 with starttls, 25 with none, when not given.", example: "587")
    static let security = Field<Security>("security", summary: "starttls (upgrade before logging in; never falls back to plain text), tls (implicit TLS, port 465) or none (plain text; trusted networks and tests only).",
                                          default: .starttls)
    static let verify = Field<Bool>("verify_certificate", summary: "Check the server's certificate against the trusted roots (and ca_file).", default: true)
    static let caFile = Field<String?>("ca_file", summary: "A PEM file with extra certificate authorities to trust (a company CA).", example: "/etc/ssl/company-ca.pem")
    static let user = Field<String?>("user", summary: "Login name (AUTH PLAIN or LOGIN, whichever the server offers); none: send without logging in.", example: "reports")
    static let password = Field<String?>("password", summary: "Password (a secret: write it as ${env:NAME} or ${file:PATH}).", example: "${env:SMTP_PASSWORD}")
    static let from = Field<String>("from", summary: "The sender: an address, optionally with a name (`Sluice reports <reports@example.com>`).", example: "reports@example.com")
    static let helo = Field<String?>("helo", summary: "The name Sluice gives in EHLO (this machine's name when not given).", example: "etl01.example.com")

    public static let spec = ConnectionSpec(type: "smtp", summary: "An SMTP server for sending mail (RFC 5321), with STARTTLS or TLS and login.",
                                            fields: [host.spec, port.spec, security.spec, verify.spec, caFile.spec, user.spec, password.spec, from.spec, helo.spec],
                                            secretFields: ["password"])

    /// Says hello (and STARTTLS) and logs in.
    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        let endpoint = try endpoint(connection)
        let offered = try await SMTPClient.withSession(endpoint) { session in session.offered }
        return ConnectionCheckResult(message: "\(endpoint.user == nil ? "connected to" : "logged in to") \(endpoint); it offers \(offered)")
    }

    public static let notificationChannel = "email"

    /// Mails the run's summary to `to` (at least one address).
    public static func notify(_ message: RunMessage, through connection: Connection, path: String?, to recipients: [String]) async throws {
        let endpoint = try endpoint(connection)
        guard !recipients.isEmpty else { throw NodeError(code: "missing_field", message: "an e-mail notification needs at least one address in to") }
        for recipient in recipients where !MailAddress.isValid(recipient) {
            throw NodeError(code: "invalid_address", message: "'\(recipient)' is not an e-mail address")
        }
        var mail = OutgoingMail(from: endpoint.from, to: recipients, subject: "\(message.status == "succeeded" ? "✓" : "✗") \(message.pipeline) \(message.status)")
        mail.text = message.text + "\n"
        let delivery = try await SMTPClient.withSession(endpoint) { session in
            try await session.send(from: endpoint.from.address, to: recipients, message: mail.rendered())
        }
        guard delivery.reply != nil else {
            throw NodeError(code: "smtp_refused", message: "\(endpoint) refused every recipient: " + delivery.refused.map { "\($0.recipient): \($0.reply)" }.joined(separator: "; "))
        }
    }

    static func endpoint(_ connection: Connection) throws -> SMTPEndpoint {
        do { return try SMTPEndpoint(connection) } catch { throw NodeError(code: error.code, message: error.message) }
    }
}

/// A resolved SMTP endpoint. Its description names host, port and user, never the password.
public struct SMTPEndpoint: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let security: SMTPConnector.Security
    public let verifyCertificate: Bool
    public let caFile: String?
    public let user: String?
    let password: Secret?
    public let from: MailAddress
    public let heloName: String

    /// Reads an `smtp` connection's settings; the host must be one the connection's outbound policy allows.
    public init(_ connection: Connection) throws(ConfigError) {
        let fields = connection.fields
        host = try fields[SMTPConnector.host]
        security = try fields[SMTPConnector.security]
        port = try fields[SMTPConnector.port] ?? [.tls: 465, .starttls: 587, .none: 25][security]!
        verifyCertificate = try fields[SMTPConnector.verify]
        caFile = try fields[SMTPConnector.caFile]
        user = try fields[SMTPConnector.user].flatMap { $0.isEmpty ? nil : $0 }
        password = connection.secrets["password"]
        let sender = try fields[SMTPConnector.from]
        guard let address = MailAddress(parsing: sender) else {
            throw ConfigError(code: "invalid_value", message: "'\(sender)' is not an e-mail address (write reports@example.com or Reports <reports@example.com>)",
                              location: connection.location, node: "connection '\(connection.name)'", field: "from")
        }
        from = address
        let helo = try fields[SMTPConnector.helo] ?? ProcessInfo.processInfo.hostName
        heloName = helo.isEmpty || helo.contains(where: { $0.isWhitespace }) ? "localhost" : helo
        try connection.outbound.check(url: "smtp://\(host.contains(":") ? "[\(host)]" : host):\(port)")
    }

    /// The name sent for TLS's server name indication and checked against the certificate (none for an address).
    var serverName: String? { host.isIPAddress ? nil : host }

    public var description: String {
        "SMTP server \(host):\(port)\(security == .none ? "" : " (\(security.rawValue))")\(user.map { ", user \($0)" } ?? "")"
    }
}
