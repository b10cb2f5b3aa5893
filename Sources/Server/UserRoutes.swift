import Foundation
import Services
import Store

/// User administration (admins), the lookup for sharing, and the audit log.
extension AuditEntry: APIView {}

enum UserRoutes {
    /// A user account.
    struct UserView: APIView {
        var id: String, name: String, role: User.Role, createdAt: Int64, disabled: Bool
        init(_ user: User) { id = user.id; name = user.name; role = user.role; createdAt = user.createdAt; disabled = user.disabled }
    }
    struct NewUser: Codable { var name: String; var password: String; var role: User.Role }
    struct UserChange: Codable { var role: User.Role?; var password: String?; var disabled: Bool? }

    /// What any signed-in user may learn of another, to share with them: no role, no state.
    struct UserMatch: APIView { var id: String, name: String }

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/users/lookup", "lookupUsers",
                 "Active users whose name contains q (ignoring case and look-alike letters), at most 20: id and name only, for sharing.",
                 tag: "users", query: [QueryParameter(name: "q", schema: APISchema.string, description: "part of a user name (1 to 64 characters)")],
                 response: APISchema.array(UserMatch.schema)) { call in
            try .json(try await call.services.users.lookup(call.query("q") ?? "", for: try call.caller).map { UserMatch(id: $0.id, name: $0.name) })
        },
        Endpoint(.get, "/api/v1/users", "listUsers", "All users.", tag: "users", access: .admin, response: APISchema.array(APISchema.ref("User"))) { call in
            try .json(try await call.services.users.list(by: try call.caller).map(UserView.init))
        },
        Endpoint(.post, "/api/v1/users", "createUser", "Creates a user.", tag: "users", access: .admin,
                 request: APISchema.of(NewUser.self),
                 status: .created, response: APISchema.ref("User")) { call in
            let input = try call.decode(NewUser.self)
            return try .json(UserView(try await call.services.users.create(name: input.name, password: input.password, role: input.role.rawValue, by: try call.caller)),
                             status: .created)
        },
        Endpoint(.patch, "/api/v1/users/{id}", "updateUser", "Changes a user's role, password or disabled flag.", tag: "users", access: .admin,
                 request: APISchema.of(UserChange.self),
                 response: APISchema.ref("User")) { call in
            let input = try call.decode(UserChange.self)
            return try .json(UserView(try await call.services.users.update(call.parameter("id"), role: input.role?.rawValue, password: input.password, disabled: input.disabled,
                                                                           by: try call.caller)))
        },
        Endpoint(.delete, "/api/v1/users/{id}", "deleteUser", "Deletes a user (not the last admin).", tag: "users", access: .admin, status: .noContent, response: nil) { call in
            try await call.services.users.delete(call.parameter("id"), by: try call.caller)
            return .noContent
        },
        Endpoint(.get, "/api/v1/audit", "listAudit", "The audit log, newest first.", tag: "users", access: .admin,
                 query: [QueryParameter(name: "limit", schema: APISchema.integer, description: "1 to 1000, default 100"),
                         QueryParameter(name: "before", schema: APISchema.integer, description: "only entries before this time (Unix ms)"),
                         QueryParameter(name: "action", schema: APISchema.string, description: "only this action")],
                 response: APISchema.array(AuditEntry.schema)) { call in
            let limit = try call.queryInt("limit", default: 100, range: 1...1000)
            return try .json(try await call.services.users.auditLog(limit: limit, before: try call.queryMillis("before"), action: call.query("action"), by: try call.caller))
        },
    ]
}
