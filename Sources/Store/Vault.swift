import Crypto
import Foundation
import Synchronization
import _CryptoExtras

/// A vault failure; messages never contain key material or secret values.
public struct VaultError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable { case locked = "vault_locked", uninitialized = "vault_uninitialized", alreadyInitialized = "vault_initialized",
                                         wrongPassword = "wrong_master_password", tampered = "secrets_tampered", weakPassword = "weak_master_password" }
    public let code: Code
    public let message: String
    public var description: String { message }

    static let locked = VaultError(code: .locked, message: "vault is locked: an admin must unlock it before secrets can be used")
    static let uninitialized = VaultError(code: .uninitialized, message: "vault is not set up yet: create the first admin to set the master password")
}

/// Seals connection secrets with a data key that a master password unlocks.
///
/// Master password → PBKDF2-SHA256 (600,000 rounds, random salt) → key-encryption key, which wraps a random
/// 256-bit data key with AES-256-GCM. The data key seals each connection's secrets (AES-GCM, bound to the
/// connection id so ciphertexts cannot be swapped between rows). The password and the keys are never stored
/// in clear; the process holds the keys only while unlocked. Changing the password re-wraps the data key;
/// rotating re-seals every secret with a new data key, in one transaction.
public final class Vault: Sendable {
    public enum Status: String, Sendable, Codable, CaseIterable { case uninitialized, locked, unlocked }

    public static let rounds = 600_000
    public static let minimumPasswordLength = 12

    private struct Keys {
        let keyEncryptionKey: SymmetricKey
        let dataKey: SymmetricKey
        let keyVersion: Int64
    }

    private let store: MetadataStore
    private let keys = Mutex<Keys?>(nil)

    public init(store: MetadataStore) { self.store = store }

    public func status() async throws -> Status {
        if keys.withLock({ $0 != nil }) { return .unlocked }
        return try await record() == nil ? .uninitialized : .locked
    }

    public var isUnlocked: Bool { keys.withLock { $0 != nil } }

    /// Creates the vault with its first master password and leaves it unlocked.
    public func initialize(password: String) async throws {
        try Self.checkStrength(password)
        let dataKey = SymmetricKey(size: .bits256)
        let salt = SecureRandom.bytes(16)
        let kek = try Self.deriveKey(password, salt: salt, rounds: Self.rounds)
        let wrapped = try Self.wrap(dataKey, with: kek, keyVersion: 1)
        let at = store.now()
        let inserted = try await store.transaction { session in
            try await session.query("""
                INSERT INTO vault (id, kdf, rounds, salt, wrapped_key, key_version, created_at, updated_at)
                VALUES (1, 'pbkdf2-sha256', $1, $2, $3, 1, $4, $4) ON CONFLICT (id) DO NOTHING RETURNING id
                """, .int(Int64(Self.rounds)), .blob(salt), .blob(wrapped), .int(at)).count == 1
        }
        guard inserted else { throw VaultError(code: .alreadyInitialized, message: "vault is already set up") }
        keys.withLock { $0 = Keys(keyEncryptionKey: kek, dataKey: dataKey, keyVersion: 1) }
    }

    /// Unlocks with the master password; a wrong password fails without revealing anything else.
    public func unlock(password: String) async throws {
        guard let record = try await record() else { throw VaultError.uninitialized }
        let kek = try Self.deriveKey(password, salt: record.salt, rounds: record.rounds)
        guard let dataKey = try? Self.unwrap(record.wrappedKey, with: kek, keyVersion: record.keyVersion) else {
            throw VaultError(code: .wrongPassword, message: "the master password is wrong")
        }
        keys.withLock { $0 = Keys(keyEncryptionKey: kek, dataKey: dataKey, keyVersion: record.keyVersion) }
    }

    /// Forgets the keys; runs that need secrets then wait or fail with "vault is locked".
    public func lock() { keys.withLock { $0 = nil } }

    /// Re-wraps the data key under a new master password (no secret is re-sealed).
    public func changePassword(current: String, new: String) async throws {
        try Self.checkStrength(new)
        guard let record = try await record() else { throw VaultError.uninitialized }
        let oldKEK = try Self.deriveKey(current, salt: record.salt, rounds: record.rounds)
        guard let dataKey = try? Self.unwrap(record.wrappedKey, with: oldKEK, keyVersion: record.keyVersion) else {
            throw VaultError(code: .wrongPassword, message: "the current master password is wrong")
        }
        let salt = SecureRandom.bytes(16)
        let kek = try Self.deriveKey(new, salt: salt, rounds: Self.rounds)
        let wrapped = try Self.wrap(dataKey, with: kek, keyVersion: record.keyVersion)
        let at = store.now()
        try await store.transaction { session in
            try await session.execute("UPDATE vault SET salt = $1, wrapped_key = $2, rounds = $3, updated_at = $4 WHERE id = 1",
                                      .blob(salt), .blob(wrapped), .int(Int64(Self.rounds)), .int(at))
        }
        keys.withLock { $0 = Keys(keyEncryptionKey: kek, dataKey: dataKey, keyVersion: record.keyVersion) }
    }

    /// Replaces the data key and re-seals every connection's secrets with it, atomically. Returns how many were re-sealed.
    @discardableResult
    public func rotateDataKey() async throws -> Int {
        _ = try await currentKeys()
        guard let current = keys.withLock({ $0 }) else { throw VaultError.locked }
        let newKey = SymmetricKey(size: .bits256)
        let version = current.keyVersion + 1
        let wrapped = try Self.wrap(newKey, with: current.keyEncryptionKey, keyVersion: version)
        let at = store.now()
        let count = try await store.transaction { session in
            let rows = try await session.query("SELECT id, sealed_secrets, key_version FROM connections WHERE sealed_secrets IS NOT NULL")
            for row in rows {
                let id = row.string("id")
                let plain = try Self.open(row.blob("sealed_secrets") ?? [], key: current.dataKey, context: id, keyVersion: row.int("key_version") ?? 0)
                let sealed = try Self.seal(plain, key: newKey, context: id, keyVersion: version)
                try await session.execute("UPDATE connections SET sealed_secrets = $2, key_version = $3 WHERE id = $1", .text(id), .blob(sealed), .int(version))
            }
            // Webhook signing secrets are sealed the same way, with "trigger:<id>" as their context.
            let triggers = try await session.query("SELECT id, sealed_secret, key_version FROM triggers WHERE sealed_secret IS NOT NULL")
            for row in triggers {
                let context = "trigger:" + row.string("id")
                let plain = try Self.open(row.blob("sealed_secret") ?? [], key: current.dataKey, context: context, keyVersion: row.int("key_version") ?? 0)
                let sealed = try Self.seal(plain, key: newKey, context: context, keyVersion: version)
                try await session.execute("UPDATE triggers SET sealed_secret = $2, key_version = $3 WHERE id = $1", .text(row.string("id")), .blob(sealed), .int(version))
            }
            let updated = try await session.query("UPDATE vault SET wrapped_key = $1, key_version = $2, updated_at = $3 WHERE id = 1 AND key_version = $4 RETURNING id",
                                                   .blob(wrapped), .int(version), .int(at), .int(current.keyVersion))
            guard updated.count == 1 else { throw StoreError(.conflict, "the data key was rotated by another server at the same time; try again") }
            return rows.count
        }
        keys.withLock { $0 = Keys(keyEncryptionKey: current.keyEncryptionKey, dataKey: newKey, keyVersion: version) }
        return count
    }

    /// Seals a connection's secrets; returns the ciphertext and the key version that sealed it.
    public func seal(_ secrets: [String: String], connectionID: String) async throws -> (sealed: [UInt8], keyVersion: Int64) {
        let keys = try await currentKeys()
        let plain = try JSONEncoder().encode(secrets)
        return (try Self.seal(Array(plain), key: keys.dataKey, context: connectionID, keyVersion: keys.keyVersion), keys.keyVersion)
    }

    /// Opens sealed secrets; `.tampered` when the ciphertext, its connection id or its key version was altered.
    public func open(_ sealed: [UInt8], connectionID: String, keyVersion: Int64) async throws -> [String: String] {
        let keys = try await currentKeys()
        let plain = try Self.open(sealed, key: keys.dataKey, context: connectionID, keyVersion: keyVersion)
        guard let secrets = try? JSONDecoder().decode([String: String].self, from: Data(plain)) else {
            throw VaultError(code: .tampered, message: "the sealed secrets of a connection are unreadable")
        }
        return secrets
    }

    // MARK: - Keys

    /// The unlocked keys, refreshed when another server rotated the data key since this one unlocked.
    private func currentKeys() async throws -> Keys {
        guard let held = keys.withLock({ $0 }) else { throw VaultError.locked }
        guard let record = try await record(), record.keyVersion != held.keyVersion else { return held }
        guard let dataKey = try? Self.unwrap(record.wrappedKey, with: held.keyEncryptionKey, keyVersion: record.keyVersion) else {
            // The master password changed elsewhere: this process must be unlocked again.
            lock()
            throw VaultError.locked
        }
        let fresh = Keys(keyEncryptionKey: held.keyEncryptionKey, dataKey: dataKey, keyVersion: record.keyVersion)
        keys.withLock { $0 = fresh }
        return fresh
    }

    private struct Record { let rounds: Int; let salt: [UInt8]; let wrappedKey: [UInt8]; let keyVersion: Int64 }

    private func record() async throws -> Record? {
        try await store.transaction { session in
            guard let row = try await session.first("SELECT rounds, salt, wrapped_key, key_version FROM vault WHERE id = 1") else { return nil }
            return Record(rounds: Int(row.int("rounds") ?? 0), salt: row.blob("salt") ?? [], wrappedKey: row.blob("wrapped_key") ?? [],
                          keyVersion: row.int("key_version") ?? 0)
        }
    }

    // MARK: - Primitives

    static func checkStrength(_ password: String) throws(VaultError) {
        guard password.count >= minimumPasswordLength else {
            throw VaultError(code: .weakPassword, message: "the master password must have at least \(minimumPasswordLength) characters")
        }
    }

    static func deriveKey(_ password: String, salt: [UInt8], rounds: Int) throws -> SymmetricKey {
        try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, rounds: max(rounds, Self.rounds))
    }

    static func wrap(_ dataKey: SymmetricKey, with kek: SymmetricKey, keyVersion: Int64) throws -> [UInt8] {
        let raw = dataKey.withUnsafeBytes { Array($0) }
        return try seal(raw, key: kek, context: "vault-data-key", keyVersion: keyVersion)
    }

    static func unwrap(_ wrapped: [UInt8], with kek: SymmetricKey, keyVersion: Int64) throws -> SymmetricKey {
        SymmetricKey(data: try open(wrapped, key: kek, context: "vault-data-key", keyVersion: keyVersion))
    }

    static func seal(_ plain: [UInt8], key: SymmetricKey, context: String, keyVersion: Int64) throws -> [UInt8] {
        let box = try AES.GCM.seal(plain, using: key, authenticating: Array("sluice/v1|\(context)|\(keyVersion)".utf8))
        guard let combined = box.combined else { throw VaultError(code: .tampered, message: "cannot seal secrets") }
        return Array(combined)
    }

    static func open(_ sealed: [UInt8], key: SymmetricKey, context: String, keyVersion: Int64) throws -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return Array(try AES.GCM.open(box, using: key, authenticating: Array("sluice/v1|\(context)|\(keyVersion)".utf8)))
        } catch {
            throw VaultError(code: .tampered, message: "sealed secrets failed authentication (altered ciphertext, wrong row or wrong key version)")
        }
    }
}
