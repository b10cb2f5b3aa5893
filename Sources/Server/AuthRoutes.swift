import Foundation
import Services
import Store

/// Login, token refresh with rotation, logout, the caller's identity, and API tokens.
extension APITokenInfo: APIView {}

enum AuthRoutes {
    struct LoginRequest: Codable { var username: String; var password: String }
    struct RefreshRequest: Codable { var refreshToken: String }
    struct LogoutRequest: Codable { var refreshToken: String? }
    struct PasswordChange: Codable { var currentPassword: String; var newPassword: String }
    /// A session's tokens: a short-lived access token and the refresh token that renews it.
    struct TokenPair: APIView { var accessToken: String; var refreshToken: String; var expiresIn: Int64; var tokenType = "Bearer" }
    struct NewAPIToken: Codable { var name: String }
    /// A new API token; `token` is shown only here.
    struct CreatedAPIToken: APIView { var id: String; var name: String; var token: String; var createdAt: Int64 }

    static let tokenPair = TokenPair.schema

    static let endpoints: [Endpoint] = [
        Endpoint(.post, "/api/v1/auth/login", "login", "Signs in; returns a short-lived access token and a rotating refresh token.", tag: "auth",
                 access: .anyone, request: APISchema.of(LoginRequest.self), response: tokenPair) { call in
            let input = try call.decode(LoginRequest.self)
            return try await tokens(call, try await call.services.sessions.login(name: input.username, password: input.password, address: call.address))
        },
        Endpoint(.post, "/api/v1/auth/password", "changePassword",
                 "Changes your own password (the current one is required); every other session and API token of yours is revoked, and a new session is returned.",
                 tag: "auth", request: APISchema.of(PasswordChange.self), response: tokenPair) { call in
            let input = try call.decode(PasswordChange.self)
            return try await tokens(call, try await call.services.sessions.changePassword(current: input.currentPassword, new: input.newPassword, by: try call.caller))
        },
        Endpoint(.post, "/api/v1/auth/refresh", "refresh", "Trades a refresh token for a new pair; a reused refresh token revokes its whole session.",
                 tag: "auth", access: .anyone, request: APISchema.of(RefreshRequest.self), response: tokenPair) { call in
            let input = try call.decode(RefreshRequest.self)
            return try await tokens(call, try await call.services.sessions.refresh(input.refreshToken, address: call.address))
        },
        Endpoint(.post, "/api/v1/auth/logout", "logout", "Ends the session of the access token (and of the refresh token, if given).", tag: "auth",
                 request: APISchema.of(LogoutRequest.self), status: .noContent, response: nil) { call in
            let refresh = (call.body?.readableBytes ?? 0) > 0 ? try call.decode(LogoutRequest.self).refreshToken : nil
            try await call.services.sessions.logout(session: await call.state.authenticator.session(of: call.request), refreshToken: refresh, by: try call.caller)
            return .noContent
        },
        Endpoint(.get, "/api/v1/auth/me", "me", "The signed-in user.", tag: "auth", response: APISchema.ref("User")) { call in
            try .json(UserRoutes.UserView(try call.caller.user))
        },
        Endpoint(.get, "/api/v1/tokens", "listTokens", "Your API tokens (never the token values).", tag: "auth", response: APISchema.array(APITokenInfo.schema)) { call in
            try .json(try await call.services.sessions.tokens(for: try call.caller))
        },
        Endpoint(.post, "/api/v1/tokens", "createToken", "Creates an API token for automation; the token is shown only in this response.", tag: "auth",
                 request: APISchema.of(NewAPIToken.self), status: .created, response: CreatedAPIToken.schema) { call in
            let input = try call.decode(NewAPIToken.self)
            let (token, info) = try await call.services.sessions.createToken(name: input.name, by: try call.caller)
            return try .json(CreatedAPIToken(id: info.id, name: info.name, token: token, createdAt: info.createdAt), status: .created)
        },
        Endpoint(.delete, "/api/v1/tokens/{id}", "deleteToken", "Revokes one of your API tokens.", tag: "auth", status: .noContent, response: nil) { call in
            try await call.services.sessions.revokeToken(call.parameter("id"), by: try call.caller)
            return .noContent
        },
    ]

    /// The reply for a new or renewed session: a fresh access token beside the refresh token.
    static func tokens(_ call: APICall, _ grant: SessionGrant) async throws -> APIReply {
        try .json(TokenPair(accessToken: try await call.state.authenticator.accessToken(for: grant.user, session: grant.family), refreshToken: grant.refreshToken,
                            expiresIn: call.state.configuration.accessTokenSeconds))
    }
}
