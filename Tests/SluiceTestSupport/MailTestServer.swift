import Foundation

/// The test run's throwaway mail system, started on first use by `scripts/mail-server` and stopped when this
/// process exits: Postfix takes mail for `sluice.test` over SMTP (STARTTLS, or implicit TLS) and delivers it to
/// the Dovecot beside it, where tests read it back over IMAP. Each test adds its own users.
public enum MailTestServer {
    /// A running mail system: its directory and its SMTP, SMTPS, IMAP and IMAPS ports.
    public struct Server: Sendable {
        public let directory: String
        public let smtpPort: Int
        public let smtpsPort: Int
        public let imapPort: Int
        public let imapsPort: Int
        /// The PEM certificate both servers present (trust it with `ca_file`).
        public var certificatePath: String { directory + "/imap/cert.pem" }
    }

    /// Started once, on first use; a failure is kept too, so every mail test fails with its reason while the
    /// other tests run on.
    private static let started: Result<Server, TestServerError> = {
        let dir = "/tmp/sluice-mail-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = PostgresTestServer.root.appendingPathComponent("scripts/mail-server").path
        return startTestServer("Postfix and Dovecot", script: script, arguments: ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)"],
                               portsFile: dir + "/ports", portCount: 4)
            .map { Server(directory: dir, smtpPort: $0[0], smtpsPort: $0[1], imapPort: $0[2], imapsPort: $0[3]) }
    }()

    /// The test run's mail system, started on first use; throws when it could not start.
    public static var server: Server {
        get throws { try started.get() }
    }

    /// A user of its own for one test: an SMTP login, an IMAP login and the address `user@sluice.test`.
    public struct Account: Sendable {
        public let user: String
        public let password: String
        public var address: String { user + "@sluice.test" }
    }

    /// Adds a user with an empty INBOX.
    public static func makeAccount(password: String = "s3cret pass") throws -> Account {
        let user = "m" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let script = PostgresTestServer.root.appendingPathComponent("scripts/mail-server").path
        let result = PostgresTestServer.spawn(script, ["user", try server.directory, user, password])
        guard result.status == 0 else { throw TestServerError(server: "Postfix", status: result.status, detail: "could not add a mail user: \(result.output)") }
        return Account(user: user, password: password)
    }
}
