import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The test run's throwaway Dovecot IMAP server, started on first use by `scripts/imap-server`
/// and stopped when this process exits. Each test adds its own user (its own mailbox) and delivers mail
/// into that user's Maildir, as a local delivery agent would.
public enum DovecotTestServer {
    /// A running server: its directory, its plain IMAP port and its implicit-TLS port.
    public struct Server: Sendable {
        public let directory: String
        public let plainPort: Int
        public let tlsPort: Int
    }

    /// Started once, on first use; a failure is kept too, so every IMAP test fails with its reason while
    /// the other tests run on.
    private static let started: Result<Server, TestServerError> = {
        let dir = "/tmp/sluice-imap-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = PostgresTestServer.root.appendingPathComponent("scripts/imap-server").path
        return startTestServer("Dovecot", script: script, arguments: ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)"],
                               portsFile: dir + "/ports", portCount: 2)
            .map { Server(directory: dir, plainPort: $0[0], tlsPort: $0[1]) }
    }()

    /// The test run's server, started on first use; throws when it could not start.
    public static var server: Server {
        get throws { try started.get() }
    }

    static let deliveries = Mutex(0)

    /// The PEM certificate the server presents on its TLS port (trust it with `ca_file`).
    public static var certificatePath: String {
        get throws { try server.directory + "/cert.pem" }
    }

    /// A mailbox of its own for one test.
    public struct Mailbox: Sendable {
        public let user: String
        public let password: String
        /// The user's Maildir (INBOX).
        public let maildir: String

        /// Delivers a message into INBOX (written to `tmp/`, then moved to `new/`, as Maildir delivery requires).
        /// Line endings become CRLF.
        public func deliver(_ message: String) throws {
            let text = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
            // Dovecot numbers new messages in file name order: a growing counter keeps delivery order.
            let sequence = DovecotTestServer.deliveries.withLock { count in count += 1; return count }
            let name = String(format: "%012d.M%09d.P%d.sluice-test", Int(Date().timeIntervalSince1970), sequence, ProcessInfo.processInfo.processIdentifier)
            let temporary = maildir + "/tmp/" + name
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            chmod(temporary, 0o666)
            guard rename(temporary, maildir + "/new/" + name) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    /// Adds a user with a fresh, empty INBOX.
    public static func makeMailbox(password: String = "s3cret pass") throws -> Mailbox {
        let user = "u" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let script = PostgresTestServer.root.appendingPathComponent("scripts/imap-server").path
        let result = PostgresTestServer.spawn(script, ["user", try server.directory, user, password])
        guard result.status == 0 else { throw TestServerError(server: "Dovecot", status: result.status, detail: "could not add an IMAP user: \(result.output)") }
        return Mailbox(user: user, password: password, maildir: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
