import Foundation
import Services

/// Vault status, unlock, lock, master password change and data key rotation.
enum VaultRoutes {
    struct Status: Codable { var status: String }
    struct Unlock: Codable { var password: String }
    struct ChangePassword: Codable { var currentPassword: String; var newPassword: String }
    struct Rotated: Codable { var status: String; var resealed: Int }

    static let statusSchema = APISchema.object(["status": APISchema.enumeration(["uninitialized", "locked", "unlocked"])])

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/vault", "getVault", "Whether the vault is set up and unlocked.", tag: "vault", response: statusSchema) { call in
            try .json(Status(status: try await call.services.vault.status().rawValue))
        },
        Endpoint(.post, "/api/v1/vault/unlock", "unlockVault", "Unlocks the vault with the master password.", tag: "vault", access: .admin,
                 request: APISchema.object(["password": APISchema.string]), response: statusSchema) { call in
            try await call.services.vault.unlock(password: try call.decode(Unlock.self).password, by: try call.caller)
            return try .json(Status(status: "unlocked"))
        },
        Endpoint(.post, "/api/v1/vault/lock", "lockVault", "Locks the vault in this server process.", tag: "vault", access: .admin, response: statusSchema) { call in
            try await call.services.vault.lock(by: try call.caller)
            return try .json(Status(status: try await call.services.vault.status().rawValue))
        },
        Endpoint(.post, "/api/v1/vault/password", "changeMasterPassword", "Changes the master password (re-wraps the data key; secrets stay as they are).",
                 tag: "vault", access: .admin, request: APISchema.object(["current_password": APISchema.string, "new_password": APISchema.string]),
                 response: statusSchema) { call in
            let input = try call.decode(ChangePassword.self)
            try await call.services.vault.changePassword(current: input.currentPassword, new: input.newPassword, by: try call.caller)
            return try .json(Status(status: "unlocked"))
        },
        Endpoint(.post, "/api/v1/vault/rotate", "rotateDataKey", "Rotates the data key: every connection secret is re-sealed in one transaction.",
                 tag: "vault", access: .admin, response: APISchema.object(["status": APISchema.string, "resealed": APISchema.integer])) { call in
            try .json(Rotated(status: "unlocked", resealed: try await call.services.vault.rotateDataKey(by: try call.caller)))
        },
    ]
}
