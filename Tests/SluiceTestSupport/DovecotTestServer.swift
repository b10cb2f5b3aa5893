import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The test run's throwaway Dovecot IMAP server (DESIGN §8), started on first use by `scripts/imap-server`
/// and stopped when this process exits. Each test adds its own user (its own mailbox) and delivers mail
/// into that user's Maildir, as a local delivery agent would.
public enum DovecotTestServer {
    /// The server's directory, its plain IMAP port and its implicit-TLS port.
    public static let server: (directory: String, plainPort: Int, tlsPort: Int) = {
        let dir = "/tmp/sluice-imap-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = PostgresTestServer.root.appendingPathComponent("scripts/imap-server").path
        let result = PostgresTestServer.spawn(script, ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)"])
        let ports = result.output.split(separator: "\n").last?.split(separator: " ").compactMap { Int($0) } ?? []
        precondition(result.status == 0 && ports.count == 2 && ports.allSatisfy { (1...65535).contains($0) },
                     "could not start Dovecot (exit \(result.status)): \(result.output)")
        return (dir, ports[0], ports[1])
    }()

    static let deliveries = Mutex(0)

    /// The PEM certificate the server presents on its TLS port (trust it with `ca_file`).
    public static var certificatePath: String { server.directory + "/cert.pem" }

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
    public static func makeMailbox(password: String = "s3cret pass") -> Mailbox {
        let user = "u" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let script = PostgresTestServer.root.appendingPathComponent("scripts/imap-server").path
        let result = PostgresTestServer.spawn(script, ["user", server.directory, user, password])
        precondition(result.status == 0, "could not add an IMAP user: \(result.output)")
        return Mailbox(user: user, password: password, maildir: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
