import Foundation
import NIOCore
public import NodeKit

/// The `sftp` connector: a partner's SFTP server (SSH with password or key login, the host key pinned by its
/// fingerprint). File nodes read and write it with `connection:`; the connection test logs in and lists the home
/// folder.
public enum SFTPConnector: FileStoring {
    static let host = Field<String>("host", summary: "The server's host name or address.", example: "sftp.partner.example")
    static let port = Field<Int>("port", summary: "The SSH port.", default: 22)
    static let user = Field<String>("user", summary: "The login name.", example: "acme")
    static let password = Field<String?>("password", summary: "The password (a secret); or use privateKey.")
    static let privateKey = Field<String?>("privateKey", summary: "An OpenSSH private key: ed25519, ECDSA or RSA (a secret; \"${file:./keys/acme}\").")
    static let passphrase = Field<String?>("passphrase", summary: "The private key's passphrase, when it has one (a secret).")
    static let hostKeyFingerprint = Field<String>("hostKeyFingerprint", summary: "The server's host key fingerprint as ssh-keygen -lf prints it (SHA256:…); any other key is refused.",
                                                  example: "SHA256:yLzh0lTv7V8iMZQ6kN2j2mP3s5ytWQvOQ0V3wRfAx0k")
    static let timeout = Field<Duration>("timeout", summary: "Time allowed to connect.", default: .seconds(30))
    static let concurrency = Field<Int>("concurrency", summary: "Requests in flight per file: reads of 255 KB, writes of 64 KB.", default: 32)

    public static let spec = ConnectionSpec(
        type: "sftp", summary: "An SFTP server (SSH): files read and written by file nodes.",
        fields: [host.spec, port.spec, user.spec, password.spec, privateKey.spec, passphrase.spec, hostKeyFingerprint.spec, timeout.spec, concurrency.spec],
        secretFields: ["password", "privateKey", "passphrase"])

    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        let login = try self.login(connection)
        let started = ContinuousClock.now
        let client = try await SFTPClient.connect(login)
        let entries = try await client.list(".")
        let elapsed = ContinuousClock.now - started
        let millis = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return ConnectionCheckResult(message: "logged in to \(login.host) as \(login.user) in \(millis) ms; the home folder has \(entries.count) entries")
    }

    public static func fileStore(_ connection: Connection?, outbound: OutboundPolicy) throws -> any FileStore {
        guard let connection else { throw ConfigError(code: "missing_field", message: "an sftp store needs a connection") }
        let concurrency = try connection.fields[Self.concurrency]
        guard (1...256).contains(concurrency) else {
            throw ConfigError(code: "invalid_value", message: "concurrency must be 1 to 256", node: "connection '\(connection.name)'", field: "concurrency")
        }
        return SFTPFileStore(login: try login(connection), connectionName: connection.name, inFlight: concurrency)
    }

    /// The connection's settings checked: a host the outbound policy allows, a key that parses, a pinned host key.
    static func login(_ connection: Connection) throws -> SFTPLogin {
        let fields = connection.fields
        let node = "connection '\(connection.name)'"
        let host = try fields[Self.host]
        do { try connection.outbound.check(url: "sftp://\(host.contains(":") ? "[\(host)]" : host)/") } catch { throw error.at(node: node, field: "host") }
        let port = try fields[Self.port]
        guard (1...65535).contains(port) else { throw ConfigError(code: "invalid_value", message: "port must be 1 to 65535", node: node, field: "port") }
        let password = connection.secrets["password"]?.reveal()
        var key: SSHPrivateKey?
        if let text = connection.secrets["privateKey"]?.reveal(), !text.isEmpty {
            do { key = try OpenSSHPrivateKey.parse(text, passphrase: connection.secrets["passphrase"]?.reveal()) } catch {
                throw ConfigError(code: "invalid_value", message: "privateKey: \(error)", node: node, field: "privateKey")
            }
        }
        guard key != nil || !(password ?? "").isEmpty else {
            throw ConfigError(code: "missing_field", message: "an sftp connection needs a password or a privateKey", node: node, field: "password")
        }
        let fingerprint = try fields[Self.hostKeyFingerprint].trimmingCharacters(in: .whitespaces)
        let timeout = try fields[Self.timeout]
        let millis = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        return SFTPLogin(host: host, port: port, user: try fields[Self.user], password: password, privateKey: key, hostKeyFingerprint: fingerprint,
                         timeout: .milliseconds(max(1, millis)))
    }
}
