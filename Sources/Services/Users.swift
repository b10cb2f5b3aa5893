import HummingbirdBcrypt
public import Store

/// Accounts: first-start setup, user administration (admins), the lookup members use to share, and the audit log.
public struct Users: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }

    /// The most a password may have: bcrypt reads only its first 72 bytes, so two longer passwords that share
    /// them would both sign in.
    public static let maximumPasswordBytes = 72
    /// The most users a lookup returns.
    public static let lookupLimit = 20

    /// Whether the server still needs its first admin.
    public func needsSetup() async throws -> Bool { try await store.userCount() == 0 }

    /// On a store without users, makes a one-time setup token (kept hashed) and returns it.
    public func prepareSetup() async throws -> String? {
        guard try await needsSetup() else { return nil }
        let token = OpaqueToken.make(prefix: "sls_")
        try await store.setSetting("setup_token", OpaqueToken.digest(token))
        return token
    }

    /// Creates the first admin and the vault, with the setup token printed at first start (used once).
    public func setup(token: String, name: String, password: String, masterPassword: String, address: String?) async throws -> User {
        guard let digest = try await store.setting("setup_token"), digest == OpaqueToken.digest(token), try await needsSetup() else {
            throw ServiceError(.forbidden, "invalid_setup_token", "the setup token is wrong or was already used")
        }
        try Self.checkPassword(password)
        try Self.checkName(name)
        if try await context.vault.status() == .uninitialized { try await context.vault.initialize(password: masterPassword) }
        let user = try await store.createUser(name: name, role: .admin, passwordHash: hash(password))
        try await store.setSetting("setup_token", nil)
        try await context.audit(Caller(user, address: address), "setup", target: user.name)
        return user
    }

    /// `sluice user add`: creates a user from the server's own command line (creating the vault first when it
    /// is not set up and a master password is given). Returns what was done.
    public func addFromCommandLine(name: String, role: User.Role, password: String, masterPassword: String?) async throws -> String {
        try Self.checkName(name)
        try Self.checkPassword(password)
        var notes: [String] = []
        if try await context.vault.status() == .uninitialized {
            guard let masterPassword else {
                throw ServiceError(.invalid, "vault_uninitialized", "the vault is not set up yet: pass --master-password-file (or SLUICE_MASTER_PASSWORD_FILE) to create it")
            }
            try await context.vault.initialize(password: masterPassword)
            notes.append("vault created")
        }
        let user = try await store.createUser(name: name, role: role, passwordHash: hash(password))
        try await store.setSetting("setup_token", nil)
        try await store.audit(actor: "cli", action: "user_create", target: user.name, detail: "sluice user add")
        return "created \(role.rawValue) '\(user.name)'" + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
    }

    /// Active users whose name contains `query` (ignoring case and look-alike letters), shortest names first:
    /// what any signed-in user may learn of others, to share with them.
    public func lookup(_ query: String, for caller: Caller) async throws -> [User] {
        guard (1...64).contains(query.count) else { throw ServiceError.invalid("q needs 1 to 64 characters of a user name", field: "q") }
        let key = UserNameKey.key(query)
        return Array(try await store.users()
            .filter { !$0.disabled && UserNameKey.key($0.name).contains(key) }
            .sorted { ($0.name.count, $0.name) < ($1.name.count, $1.name) }
            .prefix(Self.lookupLimit))
    }

    /// All users. Admins only.
    public func list(by caller: Caller) async throws -> [User] {
        try caller.requireAdmin()
        return try await store.users()
    }

    /// Creates a user. Admins only.
    public func create(name: String, password: String, role text: String, by caller: Caller) async throws -> User {
        try caller.requireAdmin()
        try Self.checkName(name)
        try Self.checkPassword(password)
        let user = try await store.createUser(name: name, role: try Self.role(text), passwordHash: hash(password))
        try await context.audit(caller, "user_create", target: user.name)
        return user
    }

    /// Changes a user's role, password or disabled flag; the last active admin stays one. A new password or a
    /// disabled account ends the user's sessions. Admins only.
    public func update(_ id: String, role text: String?, password: String?, disabled: Bool?, by caller: Caller) async throws -> User {
        try caller.requireAdmin()
        guard let existing = try await store.user(id: id) else { throw ServiceError.notFound("user") }
        let newRole = try text.map(Self.role)
        if existing.role == .admin, !existing.disabled, newRole == .member || disabled == true, try await store.activeAdminCount() <= 1 {
            throw ServiceError(.conflict, "last_admin", "this is the last active admin; make another admin first")
        }
        if let password { try Self.checkPassword(password) }
        guard let user = try await store.updateUser(id: existing.id, role: newRole, passwordHash: password.map(hash), disabled: disabled) else {
            throw ServiceError.notFound("user")
        }
        if disabled == true || password != nil { try await store.revokeSessions(userID: user.id) }
        try await context.audit(caller, "user_update", target: user.name, detail: password != nil ? "password changed" : nil)
        return user
    }

    /// Deletes a user (not the last admin). Admins only.
    public func delete(_ id: String, by caller: Caller) async throws {
        try caller.requireAdmin()
        guard let existing = try await store.user(id: id) else { throw ServiceError.notFound("user") }
        if existing.role == .admin, try await store.activeAdminCount() <= 1 { throw ServiceError(.conflict, "last_admin", "this is the last active admin") }
        _ = try await store.deleteUser(id: existing.id)
        try await context.audit(caller, "user_delete", target: existing.name)
    }

    /// The audit log, newest first. Admins only.
    public func auditLog(limit: Int, before: Int64?, action: String?, by caller: Caller) async throws -> [AuditEntry] {
        try caller.requireAdmin()
        return try await store.auditLog(limit: limit, before: before, action: action)
    }

    // MARK: Rules

    func hash(_ password: String) -> String { Bcrypt.hash(password, cost: context.accounts.bcryptCost) }

    static func checkPassword(_ password: String, field: String = "password") throws {
        guard password.count >= 10 else { throw ServiceError.invalid("passwords need at least 10 characters", field: field) }
        guard password.utf8.count <= maximumPasswordBytes else {
            throw ServiceError.invalid("passwords may have at most \(maximumPasswordBytes) bytes (bcrypt reads no further)", field: field)
        }
    }

    static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) }) else {
            throw ServiceError.invalid("user names have 1 to 64 letters, digits, '.', '_', '-' or '@'", field: "name")
        }
    }

    static func role(_ text: String) throws -> User.Role {
        guard let role = User.Role(rawValue: text) else { throw ServiceError.invalid("role must be admin or member", field: "role") }
        return role
    }
}
