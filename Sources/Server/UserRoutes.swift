import Foundation
import HummingbirdBcrypt
import Store

/// User administration (admins) and the audit log.
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

    /// The most a password may have: bcrypt reads only its first 72 bytes, so two longer passwords that share
    /// them would both sign in.
    static let maximumPasswordBytes = 72

    static func checkPassword(_ password: String, field: String = "password") throws {
        guard password.count >= 10 else { throw APIError.invalid("passwords need at least 10 characters", field: field) }
        guard password.utf8.count <= maximumPasswordBytes else {
            throw APIError.invalid("passwords may have at most \(maximumPasswordBytes) bytes (bcrypt reads no further)", field: field)
        }
    }

    static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) }) else {
            throw APIError.invalid("user names have 1 to 64 letters, digits, '.', '_', '-' or '@'", field: "name")
        }
    }

    static func role(_ text: String) throws -> User.Role {
        guard let role = User.Role(rawValue: text) else { throw APIError.invalid("role must be admin or member", field: "role") }
        return role
    }

    /// What any signed-in user may learn of another, to share with them: no role, no state.
    struct UserMatch: Codable { var id: String, name: String }
    static let lookupLimit = 20

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/users/lookup", "lookupUsers",
                 "Active users whose name contains q (ignoring case and look-alike letters), at most 20: id and name only, for sharing.",
                 tag: "users", query: [QueryParameter(name: "q", schema: APISchema.string, description: "part of a user name (1 to 64 characters)")],
                 response: APISchema.array(APISchema.object(["id": APISchema.string, "name": APISchema.string]))) { call in
            let q = call.query("q") ?? ""
            guard (1...64).contains(q.count) else { throw APIError.invalid("q needs 1 to 64 characters of a user name", field: "q") }
            let key = UserNameKey.key(q)
            let matches = try await call.state.store.users()
                .filter { !$0.disabled && UserNameKey.key($0.name).contains(key) }
                .sorted { ($0.name.count, $0.name) < ($1.name.count, $1.name) }
                .prefix(lookupLimit)
            return try .json(matches.map { UserMatch(id: $0.id, name: $0.name) })
        },
        Endpoint(.get, "/api/v1/users", "listUsers", "All users.", tag: "users", access: .admin, response: APISchema.array(APISchema.ref("User"))) { call in
            try .json(try await call.state.store.users().map(UserView.init))
        },
        Endpoint(.post, "/api/v1/users", "createUser", "Creates a user.", tag: "users", access: .admin,
                 request: APISchema.object(["name": APISchema.string, "password": APISchema.string, "role": APISchema.enumeration(["admin", "member"])]),
                 status: .created, response: APISchema.ref("User")) { call in
            let input = try call.decode(NewUser.self)
            try checkName(input.name)
            try checkPassword(input.password)
            let user = try await call.state.store.createUser(name: input.name, role: try role(input.role),
                                                             passwordHash: Bcrypt.hash(input.password, cost: call.state.configuration.bcryptCost))
            try await call.state.store.audit(actor: try call.caller.name, action: "user_create", target: user.name, address: call.address)
            return try .json(UserView(user), status: .created)
        },
        Endpoint(.patch, "/api/v1/users/{id}", "updateUser", "Changes a user's role, password or disabled flag.", tag: "users", access: .admin,
                 request: APISchema.object(["role": APISchema.enumeration(["admin", "member"]), "password": APISchema.string, "disabled": APISchema.boolean],
                                        optional: ["role", "password", "disabled"]),
                 response: APISchema.ref("User")) { call in
            let input = try call.decode(UserChange.self)
            let store = call.state.store
            guard let existing = try await store.user(id: call.parameter("id")) else { throw APIError.notFound("user") }
            let newRole = try input.role.map(role)
            if existing.role == .admin, !existing.disabled, newRole == .member || input.disabled == true, try await store.activeAdminCount() <= 1 {
                throw APIError(.conflict, "last_admin", "this is the last active admin; make another admin first")
            }
            if let password = input.password { try checkPassword(password) }
            let hash = input.password.map { Bcrypt.hash($0, cost: call.state.configuration.bcryptCost) }
            guard let user = try await store.updateUser(id: existing.id, role: newRole, passwordHash: hash, disabled: input.disabled) else { throw APIError.notFound("user") }
            if input.disabled == true || input.password != nil {
                // Existing sessions end when the password changes or the account is disabled.
                try await store.revokeSessions(userID: user.id)
            }
            try await store.audit(actor: try call.caller.name, action: "user_update", target: user.name, detail: input.password != nil ? "password changed" : nil, address: call.address)
            return try .json(UserView(user))
        },
        Endpoint(.delete, "/api/v1/users/{id}", "deleteUser", "Deletes a user (not the last admin).", tag: "users", access: .admin, status: .noContent, response: nil) { call in
            let store = call.state.store
            guard let existing = try await store.user(id: call.parameter("id")) else { throw APIError.notFound("user") }
            if existing.role == .admin, try await store.activeAdminCount() <= 1 { throw APIError(.conflict, "last_admin", "this is the last active admin") }
            _ = try await store.deleteUser(id: existing.id)
            try await store.audit(actor: try call.caller.name, action: "user_delete", target: existing.name, address: call.address)
            return .noContent
        },
        Endpoint(.get, "/api/v1/audit", "listAudit", "The audit log, newest first.", tag: "users", access: .admin,
                 query: [QueryParameter(name: "limit", schema: APISchema.integer, description: "1 to 1000, default 100"),
                         QueryParameter(name: "before", schema: APISchema.integer, description: "only entries before this time (Unix ms)"),
                         QueryParameter(name: "action", schema: APISchema.string, description: "only this action")],
                 response: APISchema.array(auditSchema)) { call in
            let limit = try call.queryInt("limit", default: 100, range: 1...1000)
            let before = try call.query("before").map { text -> Int64 in
                guard let value = Int64(text) else { throw APIError.invalid("before must be Unix milliseconds", field: "before") }
                return value
            }
            return try .json(try await call.state.store.auditLog(limit: limit, before: before, action: call.query("action")))
        },
    ]
}
