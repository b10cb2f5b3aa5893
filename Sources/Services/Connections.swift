import BuiltinNodes
import NodeKit
public import Store
import Workers

/// A connection as a client sends it. On update, omitted secret fields keep their value and `null` clears one;
/// secrets are written, never read back.
public struct ConnectionInput: Decodable, Sendable {
    public var name: String
    public var type: String
    public var settings: [String: JSONValue]?
    public var secrets: [String: String?]?
}

/// What a connection test found.
public struct ConnectionTestResult: Sendable {
    public let ok: Bool
    public let message: String
    public let tables: Int?
}

/// Connections: create and change them with write-only secrets sealed by the vault, test them, discover their
/// schema (cached), and share them.
///
/// Each connection is its creator's; a member sees and uses only the connections they own, that are shared
/// with them (`user` or `editor`) or that an admin shared with everyone. Others are "not found", so their names
/// are not revealed. Admins are owners of every connection.
public struct Connections: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }

    /// The connections the caller may use, with their role.
    public func list(for caller: Caller) async throws -> [(ConnectionRecord, ConnectionRole)] {
        let roles = try await store.connectionRoles(of: caller.user)
        return try await store.connections().compactMap { record in roles[record.id].map { (record, $0) } }
    }

    /// Creates a connection owned by the caller; its settings are checked as a run would read them.
    public func create(_ input: ConnectionInput, by caller: Caller) async throws -> ConnectionRecord {
        let (settings, secrets) = try validate(input, keeping: [:])
        let id = MetadataStore.newID()
        let sealed = secrets.isEmpty ? nil : try await context.vault.seal(secrets, connectionID: id)
        let record = try await store.createConnection(id: id, name: input.name, type: input.type, settingsJSON: settings,
                                                      secretFields: Array(secrets.keys), sealed: sealed, createdBy: caller.name)
        try await context.audit(caller, "connection_create", target: input.name,
                                detail: secrets.isEmpty ? nil : "secrets set: \(secrets.keys.sorted().joined(separator: ", "))")
        return record
    }

    /// One connection with the caller's role on it.
    public func get(_ id: String, for caller: Caller) async throws -> (ConnectionRecord, ConnectionRole) {
        try await require(.user, id, caller)
    }

    /// Replaces a connection's settings (its type cannot change); omitted secrets keep their values. Editors only.
    /// The input is read only once the caller is authorized.
    public func update(_ id: String, by caller: Caller, input: () throws -> ConnectionInput) async throws -> (ConnectionRecord, ConnectionRole) {
        let (existing, role) = try await require(.editor, id, caller)
        let input = try input()
        guard input.type == existing.type else { throw ServiceError.invalid("a connection's type cannot change; create a new connection", field: "type") }
        let changesSecrets = !(input.secrets ?? [:]).isEmpty
        var kept: [String: String] = [:]
        if changesSecrets, let sealed = try await store.sealedSecrets(connectionID: existing.id) {
            kept = try await context.vault.open(sealed.sealed, connectionID: existing.id, keyVersion: sealed.keyVersion)
        }
        let (settings, secrets) = try validate(input, keeping: changesSecrets ? kept : Dictionary(uniqueKeysWithValues: existing.secretFields.map { ($0, "") }))
        let sealed: (sealed: [UInt8], keyVersion: Int64)?? = changesSecrets
            ? .some(secrets.isEmpty ? nil : try await context.vault.seal(secrets, connectionID: existing.id)) : .none
        guard let record = try await store.updateConnection(id: existing.id, name: input.name, settingsJSON: settings,
                                                            secretFields: Array(secrets.keys), sealed: sealed) else { throw ServiceError.notFound("connection") }
        try await context.audit(caller, changesSecrets ? "secret_change" : "connection_update", target: record.name,
                                detail: changesSecrets ? "secrets set: \(secrets.keys.sorted().joined(separator: ", "))" : nil)
        return (record, role)
    }

    /// Deletes a connection. Its owner (or an admin) only.
    public func delete(_ id: String, by caller: Caller) async throws {
        let (existing, _) = try await require(.owner, id, caller)
        _ = try await store.deleteConnection(id: existing.id)
        try await context.audit(caller, "connection_delete", target: existing.name)
    }

    /// Connects with the connection's connector check (tables, mailboxes) to prove it works. A locked vault is
    /// an error; any other failure is the test's answer.
    public func test(_ id: String, for caller: Caller) async throws -> ConnectionTestResult {
        let (existing, _) = try await require(.user, id, caller)
        do {
            guard let connector = BuiltinNodes.connectors.connector(existing.type) else { throw ServiceError.invalid("unknown connection type '\(existing.type)'") }
            let result = try await connector.check(try await open(existing))
            return ConnectionTestResult(ok: true, message: result.message, tables: result.tables)
        } catch let error as VaultError {
            throw error
        } catch {
            return ConnectionTestResult(ok: false, message: "\(error)", tables: nil)
        }
    }

    /// Tables, columns, types and keys: from the cache unless `refresh` or one `schema` is asked for.
    /// Returns when they were read and the tables as JSON text.
    public func discover(_ id: String, refresh: Bool, schema: String?, for caller: Caller) async throws -> (at: Int64, tablesJSON: String) {
        let (existing, _) = try await require(.user, id, caller)
        if !refresh, schema == nil, let cached = try await store.cachedDiscovery(connectionID: existing.id) { return (cached.at, cached.json) }
        let connectors = BuiltinNodes.connectors
        guard let discoverer = connectors.connector(existing.type, offering: (any SchemaDiscovering.Type).self) else {
            throw ServiceError.invalid("\(existing.type) connections cannot be discovered; discovery needs \(connectors.describeTypes(offering: (any SchemaDiscovering.Type).self))")
        }
        let tables: [TableDescription]
        do { tables = try await discoverer.discover(try await open(existing), schema: schema) } catch let error as VaultError { throw error } catch let error as ConfigError {
            // The connection's own settings are refused (a path outside the workspace): the caller's to fix, not the server's.
            throw ServiceError(.unprocessable, error.code, error.description, field: error.field.map { "settings.\($0)" })
        } catch let errors as ConfigErrors {
            throw errors
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.badGateway, "discovery_failed", "\(error)")
        }
        let json = TableDescription.json(tables)
        if schema == nil { try await store.cacheDiscovery(connectionID: existing.id, json: json) }
        return (store.now(), json)
    }

    // MARK: Sharing

    /// Who may use the connection: its record (owner, shared with everyone) and its shares.
    public func shares(_ id: String, for caller: Caller) async throws -> (ConnectionRecord, [ConnectionShare]) {
        let (record, _) = try await require(.user, id, caller)
        return (record, try await store.connectionShares(connectionID: record.id))
    }

    /// Shares the connection with a user as `user` (may name it in pipelines) or `editor` (may also change it). Owners only.
    public func share(_ id: String, with userID: String, by caller: Caller, role text: () throws -> String) async throws {
        let (record, _) = try await require(.owner, id, caller)
        let text = try text()
        guard let role = ConnectionRole(rawValue: text), role != .owner else { throw ServiceError.invalid("role must be user or editor", field: "role") }
        guard let target = try await store.user(id: userID) else { throw ServiceError.notFound("user") }
        try await store.setConnectionShare(connectionID: record.id, userID: target.id, role: role)
        try await context.audit(caller, "connection_share", target: record.name, detail: "\(target.name): \(role.rawValue)")
    }

    /// Stops sharing the connection with a user. Owners only.
    public func unshare(_ id: String, with userID: String, by caller: Caller) async throws {
        let (record, _) = try await require(.owner, id, caller)
        try await store.setConnectionShare(connectionID: record.id, userID: userID, role: nil)
        try await context.audit(caller, "connection_unshare", target: record.name, detail: userID)
    }

    /// Lets every user name the connection in pipelines, or stops it. Admins only.
    public func shareWithEveryone(_ id: String, by caller: Caller, shared: () throws -> Bool) async throws {
        try caller.requireAdmin()
        let (record, _) = try await require(.owner, id, caller)
        let shared = try shared()
        try await store.setSharedWithEveryone(connectionID: record.id, shared)
        try await context.audit(caller, shared ? "connection_share_everyone" : "connection_unshare_everyone", target: record.name)
    }

    // MARK: Helpers

    /// The connection and the caller's role on it, which must be at least `needed`: not found when the
    /// connection is not theirs at all (its existence is not revealed), forbidden when their role is too low.
    func require(_ needed: ConnectionRole, _ id: String, _ caller: Caller) async throws -> (ConnectionRecord, ConnectionRole) {
        guard let record = try await store.connection(id: id), let role = try await store.connectionRole(of: caller.user, on: record.id) else {
            throw ServiceError.notFound("connection")
        }
        guard role >= needed else {
            throw ServiceError.forbidden("this needs the \(needed.rawValue) role on connection '\(record.name)'; you are \(role.rawValue)")
        }
        return (record, role)
    }

    /// The connection with its secrets opened, as a run would get it.
    func open(_ record: ConnectionRecord) async throws -> Connection {
        let catalog = try await context.connections.catalog(names: [record.name])
        guard let connection = catalog.connections[record.name] else { throw ServiceError.notFound("connection") }
        return connection
    }

    /// Checks fields against the connection type's spec; returns settings JSON and the secrets to seal.
    func validate(_ input: ConnectionInput, keeping existing: [String: String]) throws -> (settings: String, secrets: [String: String]) {
        guard !input.name.isEmpty, input.name.count <= 100, input.name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw ServiceError.invalid("connection names have 1 to 100 letters, digits, '_', '-' or '.'", field: "name")
        }
        guard let spec = BuiltinNodes.connectors.connector(input.type)?.spec else {
            throw ServiceError.invalid("unknown connection type '\(input.type)'; known: \(BuiltinNodes.connectors.specs.map(\.type).joined(separator: ", "))", field: "type")
        }
        var settings = input.settings ?? [:]
        var secrets = existing
        for (key, value) in input.secrets ?? [:] {
            guard spec.secretFields.contains(key) else { throw ServiceError.invalid("'\(key)' is not a secret field of \(spec.type) connections", field: "secrets.\(key)") }
            secrets[key] = value
        }
        for key in settings.keys where spec.secretFields.contains(key) {
            throw ServiceError.invalid("'\(key)' is a secret: send it in 'secrets', not 'settings'", field: "settings.\(key)")
        }
        settings.removeValue(forKey: "type")
        let settingsJSON = JSONValue.object(settings).text
        // Parse exactly as a run would (placeholders for secrets), so errors name the field now, not at run time.
        let record = ConnectionRecord.preview(name: input.name, type: input.type, settingsJSON: settingsJSON)
        let placeholders = secrets.mapValues { _ in "x" }
        let problems: [ConfigError]
        do {
            _ = try StoredConnections.connection(record, secrets: placeholders)
            problems = []
        } catch {
            problems = error.errors
        }
        if let first = problems.first {
            let prefix = input.name + "."
            let field = first.field.map { $0.hasPrefix(prefix) ? "settings." + String($0.dropFirst(prefix.count)) : $0 }
            throw ServiceError(.unprocessable, first.code, problems.map(\.message).joined(separator: "; "), field: field)
        }
        return (settingsJSON, secrets)
    }
}
