import Foundation
public import Store

/// The vault's administration: status, unlock, lock, master password change and data key rotation, each audited.
public struct VaultKeeping: Sendable {
    let context: ServiceContext
    var vault: Vault { context.vault }

    /// Whether the vault is set up and unlocked.
    public func status() async throws -> Vault.Status { try await vault.status() }

    /// Unlocks the vault with the master password; a wrong one is audited. Admins only.
    public func unlock(password: String, by caller: Caller) async throws {
        try caller.requireAdmin()
        do {
            try await vault.unlock(password: password)
        } catch let error as VaultError where error.code == .wrongPassword {
            try await context.audit(caller, "vault_unlock_failed")
            throw error
        }
        try await context.audit(caller, "vault_unlock")
    }

    /// Locks the vault in this process. Admins only.
    public func lock(by caller: Caller) async throws {
        try caller.requireAdmin()
        vault.lock()
        try await context.audit(caller, "vault_lock")
    }

    /// Changes the master password (re-wraps the data key; secrets stay as they are). Admins only.
    public func changePassword(current: String, new: String, by caller: Caller) async throws {
        try caller.requireAdmin()
        try await vault.changePassword(current: current, new: new)
        try await context.audit(caller, "vault_password_change")
    }

    /// Rotates the data key, re-sealing every connection secret in one transaction; returns how many. Admins only.
    public func rotateDataKey(by caller: Caller) async throws -> Int {
        try caller.requireAdmin()
        let count = try await vault.rotateDataKey()
        try await context.audit(caller, "vault_rotate", detail: "\(count) connections re-sealed")
        return count
    }

    /// Unlocks the vault with the password in `path`, for headless hosts; says what it did.
    public func unlock(passwordFile path: String) async throws -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ServiceError(.invalid, "unreadable_file", "cannot read the master password file \(path)")
        }
        let password = text.hasSuffix("\n") ? String(text.dropLast()) : text
        switch try await vault.status() {
        case .uninitialized: return "vault not set up yet; it will be created with the first admin"
        case .locked:
            try await vault.unlock(password: password)
            try await context.store.audit(actor: "server", action: "vault_unlock", detail: "master password file")
            return "vault unlocked from \(path)"
        case .unlocked: return nil
        }
    }
}
