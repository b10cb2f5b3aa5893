import Foundation

/// The test run's SFTP server (OpenSSH's sshd serving internal-sftp, started on first use by `scripts/sftp-server`
/// and stopped when this process exits), with its pinned host key, the test user's password and client keys. It renews
/// its session keys every 4 MB, so every large transfer in the tests also goes through key re-exchanges.
public enum SFTPTestServer {
    /// A running server: its directory (`files/` is the user's start folder) and port.
    public struct Server: Sendable {
        public let directory: String
        public let port: Int
        public var files: String { directory + "/files" }
        /// The fingerprint of the ed25519 host key (what a client asks for first).
        public var fingerprint: String { read("host_key.fingerprint") }
        /// The fingerprint of the server's `ecdsa` or `rsa` host key.
        public func fingerprint(of type: String) -> String { read("host_key_\(type).fingerprint") }
        public var user: String { read("user") }
        public var password: String { read("password") }
        public func keyPath(_ kind: String) -> String { directory + "/client_" + kind }
        /// The passphrase of the `ed25519_locked`, `ecdsa_locked` and `rsa_locked` keys.
        public let passphrase = "open sesame, said the test"

        func read(_ name: String) -> String {
            ((try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// connections.yaml text for an `sftp` connection `name`: key login (`ed25519`, `ecdsa`, `rsa`, and with a
        /// passphrase `ed25519_locked`, `ecdsa_locked`, `rsa_locked`) or the password.
        public func connectionYAML(_ name: String, key: String? = nil, fingerprint: String? = nil, extra: String = "") -> String {
            """
            \(name):
              type: sftp
              host: 127.0.0.1
              port: \(port)
              user: \(user)
              hostKeyFingerprint: "\(fingerprint ?? self.fingerprint)"
            \(key.map { "  privateKey: \"${file:\(keyPath($0))}\"" + ($0.hasSuffix("_locked") ? "\n  passphrase: \"\(passphrase)\"" : "") } ?? "  password: \"\(password)\"")
            \(extra)
            """
        }
    }

    private static let started: Result<Server, TestServerError> = {
        let dir = "/tmp/sluice-sftp-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = PostgresTestServer.root.appendingPathComponent("scripts/sftp-server").path
        return startTestServer("sshd (SFTP)", script: script, arguments: ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)", "--rekey", "4M"],
                               portsFile: dir + "/ports", portCount: 1).map { Server(directory: dir, port: $0[0]) }
    }()

    public static var server: Server {
        get throws { try started.get() }
    }
}
