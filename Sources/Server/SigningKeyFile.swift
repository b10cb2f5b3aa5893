import Crypto
import Foundation
import Store

/// The HMAC key that signs access tokens, kept in a file only this account may read (0600, in the data
/// directory, never inside a workspace root) rather than in the metadata store: whoever reads the store
/// (a backup, a database user) must not be able to forge an admin's token. Every server process sharing a
/// store reads the same file (servers on several machines mount or copy it, see docs/server.md).
enum SigningKeyFile {
    /// The key in `path`, creating it on first start. A key an older version kept in the store moves into the
    /// file (so tokens issued before keep working) and leaves the store. Two processes starting at once agree
    /// on one key: the file appears atomically (a hard link of a complete temporary file) and the loser reads it.
    static func load(_ path: String, store: MetadataStore) async throws -> Data {
        if let existing = try read(path) { return existing }
        let legacy = try await store.setting("jwt_signing_key").flatMap { Data(base64Encoded: $0) }
        let key = legacy ?? Data(SecureRandom.bytes(32))
        if try create(path, key: key), legacy != nil { try await store.setSetting("jwt_signing_key", nil) }
        guard let stored = try read(path) else { throw ServerConfigurationError("could not read the signing key file \(path)") }
        return stored
    }

    /// Writes a new random key over `path` (atomically): tokens signed with the old one stop verifying once
    /// servers restart; `sluice keys rotate` also ends every session in the store.
    static func rotate(_ path: String) throws {
        let temporary = path + ".new-\(getpid())"
        try write(Data(SecureRandom.bytes(32)), to: temporary)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ServerConfigurationError("could not replace \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func read(_ path: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        chmod(path, 0o600)
        guard let text = FileManager.default.contents(atPath: path), let key = Data(base64Encoded: String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              key.count >= 32 else {
            throw ServerConfigurationError("the signing key file \(path) does not hold a base64 key of 32 bytes or more; remove it to make a new one (every session ends)")
        }
        return key
    }

    /// Creates `path` holding `key` unless it exists; true when this call created it.
    private static func create(_ path: String, key: Data) throws -> Bool {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = path + ".new-\(getpid())-\(UUID().uuidString.prefix(8))"
        try write(key, to: temporary)
        defer { unlink(temporary) }
        if link(temporary, path) == 0 { return true }
        guard errno == EEXIST else { throw ServerConfigurationError("could not create \(path): \(String(cString: strerror(errno)))") }
        return false
    }

    private static func write(_ key: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ServerConfigurationError("could not write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let text = Array((key.base64EncodedString() + "\n").utf8)
        guard text.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == text.count, fsync(fd) == 0 else {
            throw ServerConfigurationError("could not write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
