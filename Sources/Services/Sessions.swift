import HummingbirdBcrypt
public import Store

/// A signed-in session: who, and the refresh token (with its family, the session's id) that keeps it alive.
/// The server adds a short-lived access token for the session.
public struct SessionGrant: Sendable {
    public let user: User
    public let refreshToken: String
    public let family: String
}

/// Signing in and out: login (throttled per account and address), refresh-token rotation with reuse detection,
/// logout, a user's own password change, and API tokens for automation.
public struct Sessions: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }
    var throttle: LoginThrottle { LoginThrottle(store: store) }

    /// A bcrypt hash to compare against when the user does not exist, so timing does not reveal which names exist.
    static let decoyHash = Bcrypt.hash("decoy password", cost: 11)

    /// Signs in with name and password; repeated failures for the account or the address are refused for a while.
    public func login(name: String, password: String, address: String?) async throws -> SessionGrant {
        let now = store.now()
        let keys = ["user:" + UserNameKey.key(name), "addr:" + (address ?? "?")]
        if let wait = try await throttle.retryAfter(keys: keys, now: now) {
            try await store.audit(actor: nil, action: "login_throttled", target: name, address: address)
            throw ServiceError(.tooManyRequests, "too_many_attempts", "too many failed sign-ins; try again in \(wait / 1000 + 1) seconds",
                               extra: ["retry_after_seconds": .int(wait / 1000 + 1)])
        }
        let found = try await store.credentials(name: name)
        // A password past bcrypt's 72 bytes could match another sharing its start: such passwords never sign in.
        let fits = password.utf8.count <= Users.maximumPasswordBytes
        let valid = Bcrypt.verify(password, hash: found?.passwordHash ?? Self.decoyHash) && found != nil && fits
        guard valid, let user = found?.user, !user.disabled else {
            try await throttle.recordFailure(keys: keys, now: now)
            try await store.audit(actor: nil, action: "login_failed", target: name, address: address)
            throw ServiceError(.unauthenticated, "invalid_credentials", "wrong user name or password")
        }
        try await throttle.recordSuccess(key: keys[0])
        let (refresh, family) = try await store.issueRefreshToken(userID: user.id, lifetimeMillis: context.accounts.refreshTokenMillis)
        try await context.audit(Caller(user, address: address), "login")
        return SessionGrant(user: user, refreshToken: refresh, family: family)
    }

    /// Changes the caller's own password (the current one is required); every other session and API token of
    /// theirs is revoked, and a new session is returned.
    public func changePassword(current: String, new: String, by caller: Caller) async throws -> SessionGrant {
        guard let found = try await store.credentials(name: caller.name), found.user.id == caller.user.id,
              current.utf8.count <= Users.maximumPasswordBytes, Bcrypt.verify(current, hash: found.passwordHash) else {
            try await context.audit(caller, "password_change_refused")
            throw ServiceError(.forbidden, "wrong_password", "the current password is wrong")
        }
        try Users.checkPassword(new, field: "new_password")
        _ = try await store.updateUser(id: caller.user.id, passwordHash: Bcrypt.hash(new, cost: context.accounts.bcryptCost))
        try await store.revokeSessions(userID: caller.user.id)
        try await context.audit(caller, "password_changed", target: caller.name)
        let (refresh, family) = try await store.issueRefreshToken(userID: caller.user.id, lifetimeMillis: context.accounts.refreshTokenMillis)
        return SessionGrant(user: caller.user, refreshToken: refresh, family: family)
    }

    /// Trades a refresh token for a new one; a reused refresh token revokes its whole session.
    public func refresh(_ token: String, address: String?) async throws -> SessionGrant {
        switch try await store.rotateRefreshToken(token, lifetimeMillis: context.accounts.refreshTokenMillis) {
        case let .rotated(userID, family, token):
            guard let user = try await store.user(id: userID), !user.disabled else { throw ServiceError(.unauthenticated, "invalid_token", "the user is disabled") }
            return SessionGrant(user: user, refreshToken: token, family: family)
        case .reused:
            try await store.audit(actor: nil, action: "refresh_token_reuse", detail: "session revoked", address: address)
            throw ServiceError(.unauthenticated, "refresh_token_reused", "this refresh token was already used; the session is revoked, sign in again")
        case .expired:
            throw ServiceError(.unauthenticated, "refresh_token_expired", "the refresh token expired; sign in again")
        case .revoked, .unknown:
            throw ServiceError(.unauthenticated, "invalid_token", "the refresh token is not valid")
        }
    }

    /// Ends the caller's session (the one of their access token) and the session of `refreshToken`, if given.
    public func logout(session: String?, refreshToken: String?, by caller: Caller) async throws {
        if let session { try await store.revokeFamily(session) }
        if let refreshToken, let family = try await store.refreshFamily(of: refreshToken) { try await store.revokeFamily(family) }
        try await context.audit(caller, "logout")
    }

    /// The caller's API tokens (never their values).
    public func tokens(for caller: Caller) async throws -> [APITokenInfo] {
        try await store.apiTokens(userID: caller.user.id)
    }

    /// Creates an API token for the caller; the token itself is returned only here.
    public func createToken(name: String, by caller: Caller) async throws -> (token: String, info: APITokenInfo) {
        guard !name.isEmpty, name.count <= 100 else { throw ServiceError.invalid("name must have 1 to 100 characters", field: "name") }
        let created = try await store.createAPIToken(userID: caller.user.id, name: name)
        try await context.audit(caller, "token_create", target: name)
        return created
    }

    /// Revokes one of the caller's API tokens.
    public func revokeToken(_ id: String, by caller: Caller) async throws {
        guard try await store.revokeAPIToken(id: id, userID: caller.user.id) else { throw ServiceError.notFound("token") }
        try await context.audit(caller, "token_revoke", target: id)
    }

    /// `sluice keys rotate`: ends every session in the store (tokens signed with the old key stop working).
    public func endAllSessions() async throws -> Int {
        let ended = try await store.revokeAllSessions()
        try await store.audit(actor: "cli", action: "signing_key_rotated", detail: "\(ended) session(s) ended")
        return ended
    }
}
