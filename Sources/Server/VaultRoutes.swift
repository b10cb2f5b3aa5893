import Foundation
import Services
import Store

/// Vault status, unlock, lock, master password change and data key rotation.
enum VaultRoutes {
    /// The vault's state: uninitialized, locked or unlocked.
    struct Status: APIView { var status: Vault.Status }
    struct Unlock: Codable { var password: String }
    struct ChangePassword: Codable { var currentPassword: String; var newPassword: String }
    /// A data key rotation: how many connections were re-sealed.
    struct Rotated: APIView { var status: Vault.Status; var resealed: Int }

    static let statusSchema = Status.schema

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/vault", "getVault", "Whether the vault is set up and unlocked.", tag: "vault", response: statusSchema) { call in
            try .json(Status(status: try await call.services.vault.status()))
        },
        Endpoint(.post, "/api/v1/vault/unlock", "unlockVault", "Unlocks the vault with the master password.", tag: "vault", access: .admin,
                 request: APISchema.of(Unlock.self), response: statusSchema) { call in
            try await call.services.vault.unlock(password: try call.decode(Unlock.self).password, by: try call.caller)
            return try .json(Status(status: .unlocked))
        },
        Endpoint(.post, "/api/v1/vault/lock", "lockVault", "Locks the vault in this server process.", tag: "vault", access: .admin, response: statusSchema) { call in
            try await call.services.vault.lock(by: try call.caller)
            return try .json(Status(status: try await call.services.vault.status()))
        },
        Endpoint(.post, "/api/v1/vault/password", "changeMasterPassword", "Changes the master password (re-wraps the data key; secrets stay as they are).",
                 tag: "vault", access: .admin, request: APISchema.of(ChangePassword.self), response: statusSchema) { call in
            let input = try call.decode(ChangePassword.self)
            try await call.services.vault.changePassword(current: input.currentPassword, new: input.newPassword, by: try call.caller)
            return try .json(Status(status: .unlocked))
        },
        Endpoint(.post, "/api/v1/vault/rotate", "rotateDataKey", "Rotates the data key: every connection secret is re-sealed in one transaction.",
                 tag: "vault", access: .admin, response: Rotated.schema) { call in
            try .json(Rotated(status: .unlocked, resealed: try await call.services.vault.rotateDataKey(by: try call.caller)))
        },
    ]
}
