/// A person or automation account that signs in to the server.
public struct User: Sendable, Codable, Equatable {
    public enum Role: String, Sendable, Codable, CaseIterable { case admin, member }

    public var id: String
    public var name: String
    public var role: Role
    public var createdAt: Int64
    public var disabled: Bool

    init(row: SQLRow) throws {
        id = try row.required("id")
        name = try row.required("name")
        role = try row.decode("role", as: Role.self)
        createdAt = try row.requiredInt("created_at")
        disabled = row.int("disabled") == 1
    }
}

extension MetadataStore {
    static let userColumns = "id, name, role, created_at, disabled"

    /// Creates a user with an already-hashed password; fails with `.constraint` when the name is taken, also by
    /// a name that differs only in case or look-alike letters (`admin`, `ADMIN`, a Cyrillic `аdmin`).
    public func createUser(name: String, role: User.Role, passwordHash: String) async throws -> User {
        let id = Self.newID(), at = now()
        return try await transaction { session in
            let key = UserNameKey.key(name)
            for row in try await session.query("SELECT name FROM users") where UserNameKey.key(row.string("name")) == key {
                throw StoreError(.conflict, "a user named '\(row.string("name"))' already exists (names are compared ignoring case and look-alike letters)")
            }
            let rows = try await session.query("INSERT INTO users (id, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING \(Self.userColumns)",
                                               .text(id), .text(name), .text(role.rawValue), .text(passwordHash), .int(at))
            return try User(row: rows[0])
        }
    }

    public func users() async throws -> [User] {
        try await transaction { try await $0.query("SELECT \(Self.userColumns) FROM users ORDER BY name").map({ try User(row: $0) }) }
    }

    public func user(named name: String) async throws -> User? {
        try await transaction { try await $0.first("SELECT \(Self.userColumns) FROM users WHERE name = $1", .text(name)).map({ try User(row: $0) }) }
    }

    public func user(id: String) async throws -> User? {
        try await transaction { try await $0.first("SELECT \(Self.userColumns) FROM users WHERE id = $1", .text(id)).map({ try User(row: $0) }) }
    }

    /// The user and password hash for a login name, matched exactly or else ignoring case and look-alike letters.
    public func credentials(name: String) async throws -> (user: User, passwordHash: String)? {
        try await transaction { session in
            if let row = try await session.first("SELECT \(Self.userColumns), password_hash FROM users WHERE name = $1", .text(name)) {
                return (try User(row: row), row.string("password_hash"))
            }
            let key = UserNameKey.key(name)
            let matches = try await session.query("SELECT \(Self.userColumns), password_hash FROM users").filter { UserNameKey.key($0.string("name")) == key }
            guard matches.count == 1 else { return nil }
            return (try User(row: matches[0]), matches[0].string("password_hash"))
        }
    }

    public func userCount() async throws -> Int {
        try await transaction { Int(try await $0.first("SELECT COUNT(*) AS n FROM users")?.int("n") ?? 0) }
    }

    /// Updates role, password hash or disabled flag (nil leaves a field as it is).
    public func updateUser(id: String, role: User.Role? = nil, passwordHash: String? = nil, disabled: Bool? = nil) async throws -> User? {
        try await transaction { session in
            if let role { try await session.execute("UPDATE users SET role = $2 WHERE id = $1", .text(id), .text(role.rawValue)) }
            if let passwordHash { try await session.execute("UPDATE users SET password_hash = $2 WHERE id = $1", .text(id), .text(passwordHash)) }
            if let disabled { try await session.execute("UPDATE users SET disabled = $2 WHERE id = $1", .text(id), .int(disabled ? 1 : 0)) }
            return try await session.first("SELECT \(Self.userColumns) FROM users WHERE id = $1", .text(id)).map({ try User(row: $0) })
        }
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await transaction { try await $0.query("DELETE FROM users WHERE id = $1 RETURNING id", .text(id)).count == 1 }
    }

    /// Admins left that are not disabled (the last one cannot be removed or demoted).
    public func activeAdminCount() async throws -> Int {
        try await transaction { Int(try await $0.first("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")?.int("n") ?? 0) }
    }
}
