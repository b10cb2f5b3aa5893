import Crypto
import Foundation
import Hummingbird
import JWTKit
import Store

/// The claims of a short-lived access token: who, which role, which login session (`sid`), until when.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var name: String
    var role: String
    var sid: String
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Issues and checks credentials: JWT access tokens (HS256, key in a 0600 key file every server process of a
/// store reads, see `SigningKeyFile`) and API tokens (`sla_…`, stored hashed).
struct Authenticator: Sendable {
    let keys: JWTKeyCollection
    let store: MetadataStore
    let accessLifetimeSeconds: Int64

    static func make(store: MetadataStore, keyFile: String, accessLifetimeSeconds: Int64) async throws -> Authenticator {
        let secret = try await SigningKeyFile.load(keyFile, store: store)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: SymmetricKey(data: secret)), digestAlgorithm: .sha256)
        return Authenticator(keys: keys, store: store, accessLifetimeSeconds: accessLifetimeSeconds)
    }

    func accessToken(for user: User, session: String) async throws -> String {
        let now = Date(timeIntervalSince1970: Double(store.now()) / 1000)
        let claims = AccessClaims(sub: SubjectClaim(value: user.id), name: user.name, role: user.role.rawValue, sid: session,
                                  exp: ExpirationClaim(value: now.addingTimeInterval(Double(accessLifetimeSeconds))), iat: IssuedAtClaim(value: now))
        return try await keys.sign(claims)
    }

    /// The user behind an `Authorization: Bearer …` header, or nil when there is none; throws 401 when it is invalid.
    func authenticate(_ request: Request) async throws -> User? {
        guard request.headers[.authorization] != nil else { return nil }
        guard let token = Self.bearerToken(request) else { throw APIError.unauthenticated }
        return try await authenticate(token: token)
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    /// The active user behind an access token or API token; throws 401 when it is invalid, expired or revoked.
    func authenticate(token: String) async throws -> User {
        let user: User?
        if token.hasPrefix("sla_") {
            user = try await store.userForAPIToken(token)
        } else {
            guard let claims = try? await keys.verify(token, as: AccessClaims.self) else {
                throw APIError(.unauthorized, "invalid_token", "the access token is invalid or expired; refresh it or sign in again")
            }
            // Logout and refresh-token reuse revoke the session at once, not only at expiry.
            guard let sessionUser = try await store.sessionUser(userID: claims.sub.value, family: claims.sid) else {
                throw APIError(.unauthorized, "session_revoked", "this session was signed out; sign in again")
            }
            user = sessionUser
        }
        guard let user, !user.disabled else { throw APIError(.unauthorized, "invalid_token", "the token does not belong to an active user") }
        return user
    }

    /// The session id inside an access token (for logout).
    func session(of request: Request) async -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return try? await keys.verify(String(header.dropFirst(7)), as: AccessClaims.self).sid
    }
}
