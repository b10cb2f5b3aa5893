import Foundation
import Services
import Store

/// User administration (admins), the lookup for sharing, and the audit log.
enum UserRoutes {
    struct UserView: Codable, APIView {
        static let schema = APISchema.object(["id": APISchema.string, "name": APISchema.string, "role": APISchema.enumeration(["admin", "member"]),
                                           "created_at": APISchema.integer, "disabled": APISchema.boolean])

        var id: String, name: String, role: String, createdAt: Int64, disabled: Bool
        init(_ user: User) { id = user.id; name = user.name; role = user.role.rawValue; createdAt = user.createdAt; disabled = user.disabled }
    }
    struct NewUser: Codable { var name: String; var password: String; var role: String }
    struct UserChange: Codable { var role: String?; var password: String?; var disabled: Bool? }

    static let auditSchema = APISchema.object(["id": APISchema.string, "at": APISchema.integer, "actor": APISchema.nullable(APISchema.string), "action": APISchema.string,
                                            "target": APISchema.nullable(APISchema.string), "detail": APISchema.nullable(APISchema.string),
                                            "address": APISchema.nullable(APISchema.string)], optional: ["actor", "target", "detail", "address"])

    /// What any signed-in user may learn of another, to share with them: no role, no state.
    struct UserMatch: Codable { var id: String, name: String }

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/users/lookup", "lookupUsers",
                 "Active users whose name contains q (ignoring case and look-alike letters), at most 20: id and name only, for sharing.",
                 tag: "users", query: [QueryParameter(name: "q", schema: APISchema.string, description: "part of a user name (1 to 64 characters)")],
                 response: APISchema.array(APISchema.object(["id": APISchema.string, "name": APISchema.string]))) { call in
            try .json(try await call.services.users.lookup(call.query("q") ?? "", for: try call.caller).map { UserMatch(id: $0.id, name: $0.name) })
        },
        Endpoint(.get, "/api/v1/users", "listUsers", "All users.", tag: "users", access: .admin, response: APISchema.array(APISchema.ref("User"))) { call in
            try .json(try await call.services.users.list(by: try call.caller).map(UserView.init))
        },
        Endpoint(.post, "/api/v1/users", "createUser", "Creates a user.", tag: "users", access: .admin,
                 request: APISchema.object(["name": APISchema.string, "password": APISchema.string, "role": APISchema.enumeration(["admin", "member"])]),
                 status: .created, response: APISchema.ref("User")) { call in
            let input = try call.decode(NewUser.self)
            return try .json(UserView(try await call.services.users.create(name: input.name, password: input.password, role: input.role, by: try call.caller)),
                             status: .created)
        },
        Endpoint(.patch, "/api/v1/users/{id}", "updateUser", "Changes a user's role, password or disabled flag.", tag: "users", access: .admin,
                 request: APISchema.object(["role": APISchema.enumeration(["admin", "member"]), "password": APISchema.string, "disabled": APISchema.boolean],
                                        optional: ["role", "password", "disabled"]),
                 response: APISchema.ref("User")) { call in
            let input = try call.decode(UserChange.self)
            return try .json(UserView(try await call.services.users.update(call.parameter("id"), role: input.role, password: input.password, disabled: input.disabled,
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
                 response: APISchema.array(auditSchema)) { call in
            let limit = try call.queryInt("limit", default: 100, range: 1...1000)
            return try .json(try await call.services.users.auditLog(limit: limit, before: try call.queryMillis("before"), action: call.query("action"), by: try call.caller))
        },
    ]
}
