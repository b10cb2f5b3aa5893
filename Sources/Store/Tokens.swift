import Crypto
import Foundation

/// Cryptographically secure random bytes (BoringSSL's generator, through swift-crypto).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}

/// Opaque bearer tokens (refresh tokens, API tokens, setup tokens): random, shown once, stored only as SHA-256.
public enum OpaqueToken {
    /// A new random token with a readable prefix, e.g. `slr_…` (refresh) or `sla_…` (API).
    public static func make(prefix: String) -> String {
        let text = Data(SecureRandom.bytes(32)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return prefix + text
    }

    /// The stored form of a token: hex SHA-256 (tokens carry 256 random bits, so no salt or slow hash is needed).
    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Why a refresh failed; `reused` means a spent token came back, and its whole family was revoked.
public enum RefreshOutcome: Sendable, Equatable {
    case rotated(userID: String, family: String, newToken: String)
    case unknown, expired, revoked, reused
}

/// An API token's listing entry (the token itself is shown only when created).
public struct APITokenInfo: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Int64
    public var lastUsedAt: Int64?
}

extension MetadataStore {
    /// Starts a new refresh-token family (one per login) and returns its first token.
    public func issueRefreshToken(userID: String, lifetimeMillis: Int64) async throws -> (token: String, family: String) {
        let token = OpaqueToken.make(prefix: "slr_"), family = Self.newID(), at = now()
        try await transaction { session in
            try await session.execute("INSERT INTO refresh_tokens (id, user_id, family, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                      .text(Self.newID()), .text(userID), .text(family), .text(OpaqueToken.digest(token)), .int(at), .int(at + lifetimeMillis))
        }
        return (token, family)
    }

    /// Spends a refresh token and issues its successor in the same family.
    ///
    /// A token presented twice means it was stolen or replayed: the whole family is revoked, so both
    /// the thief's and the owner's sessions end.
    public func rotateRefreshToken(_ token: String, lifetimeMillis: Int64) async throws -> RefreshOutcome {
        let at = now(), next = OpaqueToken.make(prefix: "slr_")
        return try await transaction { session in
            guard let row = try await session.first("SELECT user_id, family, expires_at, spent_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                                                    .text(OpaqueToken.digest(token))) else { return .unknown }
            let family = row.string("family")
            if row.int("revoked_at") != nil { return .revoked }
            if row.int("spent_at") != nil {
                try await session.execute("UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL", .text(family), .int(at))
                return .reused
            }
            if (row.int("expires_at") ?? 0) <= at { return .expired }
            try await session.execute("UPDATE refresh_tokens SET spent_at = $2 WHERE token_hash = $1", .text(OpaqueToken.digest(token)), .int(at))
            let userID = row.string("user_id")
            try await session.execute("INSERT INTO refresh_tokens (id, user_id, family, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                      .text(Self.newID()), .text(userID), .text(family), .text(OpaqueToken.digest(next)), .int(at), .int(at + lifetimeMillis))
            return .rotated(userID: userID, family: family, newToken: next)
        }
    }

    /// Revokes a session family (logout); access tokens naming it stop working at once.
    public func revokeFamily(_ family: String) async throws {
        let at = now()
        try await transaction { try await $0.execute("UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL", .text(family), .int(at)) }
    }

    /// Ends every user's every session (the signing key was rotated); returns how many were live.
    public func revokeAllSessions() async throws -> Int {
        let at = now()
        return try await transaction { session in
            let live = try await session.query("SELECT DISTINCT family FROM refresh_tokens WHERE revoked_at IS NULL").count
            try await session.execute("UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL", .int(at))
            return live
        }
    }

    /// Ends every session and revokes every API token of a user (password changed, account disabled).
    public func revokeSessions(userID: String) async throws {
        let at = now()
        try await transaction { session in
            try await session.execute("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", .text(userID), .int(at))
            try await session.execute("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", .text(userID), .int(at))
        }
    }

    /// The user of a live session: one transaction per authenticated request (the hot path of every call).
    /// Nil when the session was revoked (logout, refresh-token reuse), belongs to another user than the token
    /// names, or the user no longer exists.
    public func sessionUser(userID: String, family: String) async throws -> User? {
        try await transaction { session in
            let live = try await session.first("SELECT 1 AS ok FROM refresh_tokens WHERE family = $1 AND user_id = $2 AND revoked_at IS NULL LIMIT 1",
                                               .text(family), .text(userID))
            guard live != nil else { return nil }
            return try await session.first("SELECT \(Self.userColumns) FROM users WHERE id = $1", .text(userID)).map({ try User(row: $0) })
        }
    }

    /// The family a refresh token belongs to, if it exists.
    public func refreshFamily(of token: String) async throws -> String? {
        try await transaction { try await $0.first("SELECT family FROM refresh_tokens WHERE token_hash = $1", .text(OpaqueToken.digest(token)))?.text("family") }
    }

    /// Whether a session family is still usable (not revoked, not all expired).
    public func isFamilyActive(_ family: String) async throws -> Bool {
        try await transaction { session in
            let row = try await session.first("SELECT COUNT(*) AS n FROM refresh_tokens WHERE family = $1 AND revoked_at IS NULL", .text(family))
            return (row?.int("n") ?? 0) > 0
        }
    }

    /// Creates an API token for automation; the returned token is shown once and stored hashed.
    public func createAPIToken(userID: String, name: String) async throws -> (token: String, info: APITokenInfo) {
        let token = OpaqueToken.make(prefix: "sla_"), id = Self.newID(), at = now()
        try await transaction { session in
            try await session.execute("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                                      .text(id), .text(userID), .text(name), .text(OpaqueToken.digest(token)), .int(at))
        }
        return (token, APITokenInfo(id: id, name: name, createdAt: at, lastUsedAt: nil))
    }

    public func apiTokens(userID: String) async throws -> [APITokenInfo] {
        try await transaction { session in
            try await session.query("SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at", .text(userID))
                .map { APITokenInfo(id: $0.string("id"), name: $0.string("name"), createdAt: $0.int("created_at") ?? 0, lastUsedAt: $0.int("last_used_at")) }
        }
    }

    public func revokeAPIToken(id: String, userID: String) async throws -> Bool {
        let at = now()
        return try await transaction {
            try await $0.query("UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id", .text(id), .text(userID), .int(at)).count == 1
        }
    }

    /// The user an API token belongs to, if the token is live; records its use.
    public func userForAPIToken(_ token: String) async throws -> User? {
        let at = now()
        return try await transaction { session in
            let digest = OpaqueToken.digest(token)
            guard let row = try await session.first("SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL", .text(digest)) else { return nil }
            try await session.execute("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1", .text(digest), .int(at))
            return try await session.first("SELECT \(Self.userColumns) FROM users WHERE id = $1", .text(row.string("user_id"))).map({ try User(row: $0) })
        }
    }
}
