import Foundation
import Store

/// Vault status, unlock, lock, master password change and data key rotation.
enum VaultRoutes {
    struct Status: Codable { var status: String }
    struct Unlock: Codable { var password: String }
    struct ChangePassword: Codable { var currentPassword: String; var newPassword: String }
    struct Rotated: Codable { var status: String; var resealed: Int }

    static let statusSchema = APISchema.object(["status": APISchema.enumeration(["uninitialized", "locked", "unlocked"])])

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/vault", "getVault", "Whether the vault is set up and unlocked.", tag: "vault", response: statusSchema) { call in
            try .json(Status(status: try await call.state.vault.status().rawValue))
        },
        Endpoint(.post, "/api/v1/vault/unlock", "unlockVault", "Unlocks the vault with the master password.", tag: "vault", access: .admin,
                 request: APISchema.object(["password": APISchema.string]), response: statusSchema) { call in
            let input = try call.decode(Unlock.self)
            let actor = try call.caller.name
            do {
                try await call.state.vault.unlock(password: input.password)
            } catch let error as VaultError where error.code == .wrongPassword {
                try await call.state.store.audit(actor: actor, action: "vault_unlock_failed", address: call.address)
                throw error
            }
            try await call.state.store.audit(actor: actor, action: "vault_unlock", address: call.address)
            return try .json(Status(status: "unlocked"))
        },
        Endpoint(.post, "/api/v1/vault/lock", "lockVault", "Locks the vault in this server process.", tag: "vault", access: .admin, response: statusSchema) { call in
            call.state.vault.lock()
            try await call.state.store.audit(actor: try call.caller.name, action: "vault_lock", address: call.address)
            return try .json(Status(status: try await call.state.vault.status().rawValue))
        },
        Endpoint(.post, "/api/v1/vault/password", "changeMasterPassword", "Changes the master password (re-wraps the data key; secrets stay as they are).",
                 tag: "vault", access: .admin, request: APISchema.object(["current_password": APISchema.string, "new_password": APISchema.string]),
                 response: statusSchema) { call in
            let input = try call.decode(ChangePassword.self)
            try await call.state.vault.changePassword(current: input.currentPassword, new: input.newPassword)
            try await call.state.store.audit(actor: try call.caller.name, action: "vault_password_change", address: call.address)
            return try .json(Status(status: "unlocked"))
        },
        Endpoint(.post, "/api/v1/vault/rotate", "rotateDataKey", "Rotates the data key: every connection secret is re-sealed in one transaction.",
                 tag: "vault", access: .admin, response: APISchema.object(["status": APISchema.string, "resealed": APISchema.integer])) { call in
            let count = try await call.state.vault.rotateDataKey()
            try await call.state.store.audit(actor: try call.caller.name, action: "vault_rotate", detail: "\(count) connections re-sealed", address: call.address)
            return try .json(Rotated(status: "unlocked", resealed: count))
        },
    ]
}
