import Foundation
import HummingbirdBcrypt
import Store

/// Login, token refresh with rotation, logout, the caller's identity, and API tokens.
enum AuthRoutes {
    struct LoginRequest: Codable { var username: String; var password: String }
    struct RefreshRequest: Codable { var refreshToken: String }
    struct LogoutRequest: Codable { var refreshToken: String? }
    struct PasswordChange: Codable { var currentPassword: String; var newPassword: String }
    struct TokenPair: Codable { var accessToken: String; var refreshToken: String; var expiresIn: Int64; var tokenType = "Bearer" }
    struct NewAPIToken: Codable { var name: String }
    struct CreatedAPIToken: Codable { var id: String; var name: String; var token: String; var createdAt: Int64 }

    static let tokenPair = APISchema.object(["access_token": APISchema.string, "refresh_token": APISchema.string, "expires_in": APISchema.integer, "token_type": APISchema.string])
    static let apiToken = APISchema.object(["id": APISchema.string, "name": APISchema.string, "created_at": APISchema.integer, "last_used_at": APISchema.nullable(APISchema.integer)],
                                        optional: ["last_used_at"])

    /// A bcrypt hash to compare against when the user does not exist, so timing does not reveal which names exist.
    static let decoyHash = Bcrypt.hash("decoy password", cost: 11)

    static let endpoints: [Endpoint] = [
        Endpoint(.post, "/api/v1/auth/login", "login", "Signs in; returns a short-lived access token and a rotating refresh token.", tag: "auth",
                 access: .anyone, request: APISchema.object(["username": APISchema.string, "password": APISchema.string]), response: tokenPair) { call in
            let input = try call.decode(LoginRequest.self)
            let state = call.state, now = state.store.now()
            let keys = ["user:" + UserNameKey.key(input.username), "addr:" + (call.address ?? "?")]
            if let wait = try await state.throttle.retryAfter(keys: keys, now: now) {
                try await state.store.audit(actor: nil, action: "login_throttled", target: input.username, address: call.address)
                throw APIError(.tooManyRequests, "too_many_attempts", "too many failed sign-ins; try again in \(wait / 1000 + 1) seconds",
                               extra: ["retry_after_seconds": .int(wait / 1000 + 1)])
            }
            let found = try await state.store.credentials(name: input.username)
            // A password past bcrypt's 72 bytes could match another sharing its start: such passwords never sign in.
            let fits = input.password.utf8.count <= UserRoutes.maximumPasswordBytes
            let valid = Bcrypt.verify(input.password, hash: found?.passwordHash ?? decoyHash) && found != nil && fits
            guard valid, let user = found?.user, !user.disabled else {
                try await state.throttle.recordFailure(keys: keys, now: now)
                try await state.store.audit(actor: nil, action: "login_failed", target: input.username, address: call.address)
                throw APIError(.unauthorized, "invalid_credentials", "wrong user name or password")
            }
            try await state.throttle.recordSuccess(key: keys[0])
            let (refresh, family) = try await state.store.issueRefreshToken(userID: user.id, lifetimeMillis: state.configuration.refreshTokenMillis)
            try await state.store.audit(actor: user.name, action: "login", address: call.address)
            return try .json(TokenPair(accessToken: try await state.authenticator.accessToken(for: user, session: family), refreshToken: refresh,
                                       expiresIn: state.configuration.accessTokenSeconds))
        },
        Endpoint(.post, "/api/v1/auth/password", "changePassword",
                 "Changes your own password (the current one is required); every other session and API token of yours is revoked, and a new session is returned.",
                 tag: "auth", request: APISchema.object(["current_password": APISchema.string, "new_password": APISchema.string]), response: tokenPair) { call in
            let input = try call.decode(PasswordChange.self)
            let state = call.state, user = try call.caller
            guard let found = try await state.store.credentials(name: user.name), found.user.id == user.id,
                  input.currentPassword.utf8.count <= UserRoutes.maximumPasswordBytes, Bcrypt.verify(input.currentPassword, hash: found.passwordHash) else {
                try await state.store.audit(actor: user.name, action: "password_change_refused", address: call.address)
                throw APIError(.forbidden, "wrong_password", "the current password is wrong")
            }
            try UserRoutes.checkPassword(input.newPassword, field: "new_password")
            _ = try await state.store.updateUser(id: user.id, passwordHash: Bcrypt.hash(input.newPassword, cost: state.configuration.bcryptCost))
            try await state.store.revokeSessions(userID: user.id)
            try await state.store.audit(actor: user.name, action: "password_changed", target: user.name, address: call.address)
            let (refresh, family) = try await state.store.issueRefreshToken(userID: user.id, lifetimeMillis: state.configuration.refreshTokenMillis)
            return try .json(TokenPair(accessToken: try await state.authenticator.accessToken(for: user, session: family), refreshToken: refresh,
                                       expiresIn: state.configuration.accessTokenSeconds))
        },
        Endpoint(.post, "/api/v1/auth/refresh", "refresh", "Trades a refresh token for a new pair; a reused refresh token revokes its whole session.",
                 tag: "auth", access: .anyone, request: APISchema.object(["refresh_token": APISchema.string]), response: tokenPair) { call in
            let input = try call.decode(RefreshRequest.self)
            let state = call.state
            switch try await state.store.rotateRefreshToken(input.refreshToken, lifetimeMillis: state.configuration.refreshTokenMillis) {
            case let .rotated(userID, family, token):
                guard let user = try await state.store.user(id: userID), !user.disabled else { throw APIError(.unauthorized, "invalid_token", "the user is disabled") }
                return try .json(TokenPair(accessToken: try await state.authenticator.accessToken(for: user, session: family), refreshToken: token,
                                           expiresIn: state.configuration.accessTokenSeconds))
            case .reused:
                try await state.store.audit(actor: nil, action: "refresh_token_reuse", detail: "session revoked", address: call.address)
                throw APIError(.unauthorized, "refresh_token_reused", "this refresh token was already used; the session is revoked, sign in again")
            case .expired:
                throw APIError(.unauthorized, "refresh_token_expired", "the refresh token expired; sign in again")
            case .revoked, .unknown:
                throw APIError(.unauthorized, "invalid_token", "the refresh token is not valid")
            }
        },
        Endpoint(.post, "/api/v1/auth/logout", "logout", "Ends the session of the access token (and of the refresh token, if given).", tag: "auth",
                 request: APISchema.object(["refresh_token": APISchema.string], optional: ["refresh_token"]), status: .noContent, response: nil) { call in
            let user = try call.caller
            if let session = await call.state.authenticator.session(of: call.request) { try await call.state.store.revokeFamily(session) }
            if let body = call.body, body.readableBytes > 0, let token = try call.decode(LogoutRequest.self).refreshToken,
               let family = try await call.state.store.refreshFamily(of: token) {
                try await call.state.store.revokeFamily(family)
            }
            try await call.state.store.audit(actor: user.name, action: "logout", address: call.address)
            return .noContent
        },
        Endpoint(.get, "/api/v1/auth/me", "me", "The signed-in user.", tag: "auth", response: APISchema.ref("User")) { call in
            try .json(UserRoutes.UserView(try call.caller))
        },
        Endpoint(.get, "/api/v1/tokens", "listTokens", "Your API tokens (never the token values).", tag: "auth", response: APISchema.array(apiToken)) { call in
            try .json(try await call.state.store.apiTokens(userID: try call.caller.id))
        },
        Endpoint(.post, "/api/v1/tokens", "createToken", "Creates an API token for automation; the token is shown only in this response.", tag: "auth",
                 request: APISchema.object(["name": APISchema.string]), status: .created,
                 response: APISchema.object(["id": APISchema.string, "name": APISchema.string, "token": APISchema.string, "created_at": APISchema.integer])) { call in
            let user = try call.caller
            let input = try call.decode(NewAPIToken.self)
            guard !input.name.isEmpty, input.name.count <= 100 else { throw APIError.invalid("name must have 1 to 100 characters", field: "name") }
            let (token, info) = try await call.state.store.createAPIToken(userID: user.id, name: input.name)
            try await call.state.store.audit(actor: user.name, action: "token_create", target: input.name, address: call.address)
            return try .json(CreatedAPIToken(id: info.id, name: info.name, token: token, createdAt: info.createdAt), status: .created)
        },
        Endpoint(.delete, "/api/v1/tokens/{id}", "deleteToken", "Revokes one of your API tokens.", tag: "auth", status: .noContent, response: nil) { call in
            let user = try call.caller
            guard try await call.state.store.revokeAPIToken(id: call.parameter("id"), userID: user.id) else { throw APIError.notFound("token") }
            try await call.state.store.audit(actor: user.name, action: "token_revoke", target: call.parameter("id"), address: call.address)
            return .noContent
        },
    ]
}
