import BuiltinNodes
import Foundation
import NodeKit
import Store
import Workers

/// Connections: CRUD with write-only secrets, a connectivity test, cached schema discovery, and sharing.
///
/// Each connection is its creator's; a member sees and uses only the connections they own, that are shared
/// with them (`user` or `editor`) or that an admin shared with everyone. Others answer 404, so their names
/// are not revealed. Admins are owners of every connection.
enum ConnectionRoutes {
    /// A connection as responses show it: settings and which secrets are set, never their values; `role` is the caller's.
    struct ConnectionView: Encodable, APIView {
        static let schema = APISchema.object(["id": APISchema.string, "name": APISchema.string, "type": APISchema.string, "settings": APISchema.anyObject,
                                           "secrets_set": APISchema.array(APISchema.string), "created_by": APISchema.string, "created_at": APISchema.integer,
                                           "updated_at": APISchema.integer, "role": APISchema.enumeration(["user", "editor", "owner"]),
                                           "shared_with_everyone": APISchema.boolean])

        var id: String, name: String, type: String, settings: JSONValue, secretsSet: [String], createdBy: String, createdAt: Int64, updatedAt: Int64
        var role: String, sharedWithEveryone: Bool
        init(_ r: ConnectionRecord, role: ConnectionRole) {
            id = r.id; name = r.name; type = r.type; settings = JSONValue.parse(r.settingsJSON) ?? .object([:]); secretsSet = r.secretFields
            createdBy = r.createdBy; createdAt = r.createdAt; updatedAt = r.updatedAt
            self.role = role.rawValue; sharedWithEveryone = r.sharedWithEveryone
        }
    }
    struct SharesView: Codable, APIView {
        static let schema = APISchema.object(["owner": APISchema.string, "shared_with_everyone": APISchema.boolean,
                                                 "shares": APISchema.array(APISchema.object(["user_id": APISchema.string, "user_name": APISchema.string,
                                                                                       "role": APISchema.enumeration(["user", "editor"])]))])
        var owner: String
        var sharedWithEveryone: Bool
        var shares: [ShareView]
    }
    struct ShareInput: Codable { var role: String }
    struct EveryoneInput: Codable { var shared: Bool }
    /// Create or replace. `secrets` values are written, never read back; on update, omitted secret fields keep their value and `null` clears one.
    struct ConnectionInput: Decodable { var name: String; var type: String; var settings: [String: JSONValue]?; var secrets: [String: String?]? }
    struct TestResult: Codable { var ok: Bool; var message: String; var tables: Int? }

    static let input = APISchema.object(["name": APISchema.string, "type": APISchema.string, "settings": APISchema.anyObject,
                                      "secrets": APISchema.map(APISchema.nullable(APISchema.string))], optional: ["settings", "secrets"])

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/connections", "listConnections", "The connections you may use (secrets only as names of set fields), with your role.",
                 tag: "connections", response: APISchema.array(APISchema.ref("Connection"))) { call in
            let roles = try await call.state.store.connectionRoles(of: try call.caller)
            return try .json(try await call.state.store.connections().compactMap { record in roles[record.id].map { ConnectionView(record, role: $0) } })
        },
        Endpoint(.post, "/api/v1/connections", "createConnection", "Creates a connection; secrets are sealed by the vault.", tag: "connections",
                 request: input, status: .created, response: APISchema.ref("Connection")) { call in
            let user = try call.caller
            let body = try call.decode(ConnectionInput.self)
            let (settings, secrets) = try validate(body, keeping: [:])
            let id = MetadataStore.newID()
            let sealed = secrets.isEmpty ? nil : try await call.state.vault.seal(secrets, connectionID: id)
            let record = try await call.state.store.createConnection(id: id, name: body.name, type: body.type, settingsJSON: settings,
                                                                     secretFields: Array(secrets.keys), sealed: sealed, createdBy: user.name)
            try await call.state.store.audit(actor: user.name, action: "connection_create", target: body.name,
                                             detail: secrets.isEmpty ? nil : "secrets set: \(secrets.keys.sorted().joined(separator: ", "))", address: call.address)
            return try .json(ConnectionView(record, role: .owner), status: .created)
        },
        Endpoint(.get, "/api/v1/connections/{id}", "getConnection", "One connection.", tag: "connections", response: APISchema.ref("Connection")) { call in
            let (record, role) = try await require(.user, call)
            return try .json(ConnectionView(record, role: role))
        },
        Endpoint(.put, "/api/v1/connections/{id}", "updateConnection", "Replaces a connection's settings; omitted secrets keep their values.",
                 tag: "connections", request: input, response: APISchema.ref("Connection")) { call in
            let user = try call.caller
            let (existing, role) = try await require(.editor, call)
            let body = try call.decode(ConnectionInput.self)
            guard body.type == existing.type else { throw APIError.invalid("a connection's type cannot change; create a new connection", field: "type") }
            let changesSecrets = !(body.secrets ?? [:]).isEmpty
            var kept: [String: String] = [:]
            if changesSecrets, let sealed = try await call.state.store.sealedSecrets(connectionID: existing.id) {
                kept = try await call.state.vault.open(sealed.sealed, connectionID: existing.id, keyVersion: sealed.keyVersion)
            }
            let (settings, secrets) = try validate(body, keeping: changesSecrets ? kept : Dictionary(uniqueKeysWithValues: existing.secretFields.map { ($0, "") }))
            let sealed: (sealed: [UInt8], keyVersion: Int64)?? = changesSecrets
                ? .some(secrets.isEmpty ? nil : try await call.state.vault.seal(secrets, connectionID: existing.id)) : .none
            guard let record = try await call.state.store.updateConnection(id: existing.id, name: body.name, settingsJSON: settings,
                                                                           secretFields: Array(secrets.keys), sealed: sealed) else { throw APIError.notFound("connection") }
            try await call.state.store.audit(actor: user.name, action: changesSecrets ? "secret_change" : "connection_update", target: record.name,
                                             detail: changesSecrets ? "secrets set: \(secrets.keys.sorted().joined(separator: ", "))" : nil, address: call.address)
            return try .json(ConnectionView(record, role: role))
        },
        Endpoint(.delete, "/api/v1/connections/{id}", "deleteConnection", "Deletes a connection (its owner or an admin).", tag: "connections", status: .noContent, response: nil) { call in
            let user = try call.caller
            let (existing, _) = try await require(.owner, call)
            _ = try await call.state.store.deleteConnection(id: existing.id)
            try await call.state.store.audit(actor: user.name, action: "connection_delete", target: existing.name, address: call.address)
            return .noContent
        },
        Endpoint(.post, "/api/v1/connections/{id}/test", "testConnection", "Connects and lists tables (mail servers: logs in and lists mailboxes) to prove the connection works.", tag: "connections",
                 response: APISchema.object(["ok": APISchema.boolean, "message": APISchema.string, "tables": APISchema.nullable(APISchema.integer)], optional: ["tables"])) { call in
            let (existing, _) = try await require(.user, call)
            do {
                guard let connector = BuiltinNodes.connectors.connector(existing.type) else { throw APIError.invalid("unknown connection type '\(existing.type)'") }
                let catalog = try await call.state.connections.catalog(names: [existing.name])
                guard let connection = catalog.connections[existing.name] else { throw APIError.notFound("connection") }
                let result = try await connector.check(connection)
                return try .json(TestResult(ok: true, message: result.message, tables: result.tables))
            } catch let error as VaultError {
                throw error
            } catch {
                return try .json(TestResult(ok: false, message: "\(error)", tables: nil))
            }
        },
        Endpoint(.get, "/api/v1/connections/{id}/discover", "discoverConnection", "Tables, columns, types and keys (cached; ?refresh=true to re-read).",
                 tag: "connections", query: [QueryParameter(name: "refresh", schema: APISchema.boolean, description: "re-read the schema instead of the cache"),
                                             QueryParameter(name: "schema", schema: APISchema.string, description: "only this schema (PostgreSQL)")],
                 response: APISchema.object(["discovered_at": APISchema.integer, "tables": APISchema.array(APISchema.anyObject)]),
                 errors: [.unprocessableContent, .badGateway]) { call in
            let (existing, _) = try await require(.user, call)
            let schema = call.query("schema")
            if call.query("refresh") != "true", schema == nil, let cached = try await call.state.store.cachedDiscovery(connectionID: existing.id) {
                return try discovery(at: cached.at, tablesJSON: cached.json)
            }
            let tables: [TableDescription]
            do { tables = try await discover(existing, call: call, schema: schema) } catch let error as VaultError { throw error } catch let error as ConfigError {
                // The connection's own settings are refused (a path outside the workspace): the caller's to fix, not the server's.
                throw APIError(.unprocessableContent, error.code, error.description, field: error.field.map { "settings.\($0)" })
            } catch let errors as ConfigErrors {
                throw APIError.from(errors)
            } catch {
                throw APIError(.badGateway, "discovery_failed", "\(error)")
            }
            let json = TableDescription.json(tables)
            if schema == nil { try await call.state.store.cacheDiscovery(connectionID: existing.id, json: json) }
            return try discovery(at: call.state.store.now(), tablesJSON: json)
        },
        Endpoint(.get, "/api/v1/connections/{id}/shares", "listConnectionShares", "Who may use the connection: its owner, its shares, and whether everyone may.",
                 tag: "sharing", response: SharesView.schema) { call in
            let (record, _) = try await require(.user, call)
            let shares = try await call.state.store.connectionShares(connectionID: record.id)
            return try .json(SharesView(owner: record.createdBy, sharedWithEveryone: record.sharedWithEveryone,
                                        shares: shares.map { ShareView(userId: $0.userID, userName: $0.userName, role: $0.role.rawValue) }))
        },
        Endpoint(.put, "/api/v1/connections/{id}/shares/{user}", "setConnectionShare",
                 "Shares the connection with a user (by id) as user (may name it in pipelines) or editor (may also change it); owners only.",
                 tag: "sharing", request: APISchema.object(["role": APISchema.enumeration(["user", "editor"])]), status: .noContent, response: nil) { call in
            let (record, _) = try await require(.owner, call)
            let input = try call.decode(ShareInput.self)
            guard let role = ConnectionRole(rawValue: input.role), role != .owner else { throw APIError.invalid("role must be user or editor", field: "role") }
            guard let target = try await call.state.store.user(id: call.parameter("user")) else { throw APIError.notFound("user") }
            try await call.state.store.setConnectionShare(connectionID: record.id, userID: target.id, role: role)
            try await call.state.store.audit(actor: try call.caller.name, action: "connection_share", target: record.name, detail: "\(target.name): \(role.rawValue)", address: call.address)
            return .noContent
        },
        Endpoint(.delete, "/api/v1/connections/{id}/shares/{user}", "deleteConnectionShare", "Stops sharing the connection with a user; owners only.",
                 tag: "sharing", status: .noContent, response: nil) { call in
            let (record, _) = try await require(.owner, call)
            try await call.state.store.setConnectionShare(connectionID: record.id, userID: call.parameter("user"), role: nil)
            try await call.state.store.audit(actor: try call.caller.name, action: "connection_unshare", target: record.name, detail: call.parameter("user"), address: call.address)
            return .noContent
        },
        Endpoint(.put, "/api/v1/connections/{id}/everyone", "shareConnectionWithEveryone",
                 "Lets every user name the connection in pipelines (as user), or stops it; admins only.", tag: "sharing", access: .admin,
                 request: APISchema.object(["shared": APISchema.boolean]), status: .noContent, response: nil) { call in
            let (record, _) = try await require(.owner, call)
            let input = try call.decode(EveryoneInput.self)
            try await call.state.store.setSharedWithEveryone(connectionID: record.id, input.shared)
            try await call.state.store.audit(actor: try call.caller.name, action: input.shared ? "connection_share_everyone" : "connection_unshare_everyone",
                                             target: record.name, address: call.address)
            return .noContent
        },
    ]

    /// The connection of the path and the caller's role on it, which must be at least `needed`: 404 when the
    /// connection is not theirs at all (its existence is not revealed), 403 when their role is too low.
    static func require(_ needed: ConnectionRole, _ call: APICall) async throws -> (ConnectionRecord, ConnectionRole) {
        let user = try call.caller
        guard let record = try await call.state.store.connection(id: call.parameter("id")),
              let role = try await call.state.store.connectionRole(of: user, on: record.id) else { throw APIError.notFound("connection") }
        guard role >= needed else {
            throw APIError.forbidden("this needs the \(needed.rawValue) role on connection '\(record.name)'; you are \(role.rawValue)")
        }
        return (record, role)
    }

    /// Checks fields against the connection type's spec; returns settings JSON and the secrets to seal.
    static func validate(_ input: ConnectionInput, keeping existing: [String: String]) throws -> (settings: String, secrets: [String: String]) {
        guard !input.name.isEmpty, input.name.count <= 100, input.name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw APIError.invalid("connection names have 1 to 100 letters, digits, '_', '-' or '.'", field: "name")
        }
        guard let spec = BuiltinNodes.connectors.connector(input.type)?.spec else {
            throw APIError.invalid("unknown connection type '\(input.type)'; known: \(BuiltinNodes.connectors.specs.map(\.type).joined(separator: ", "))", field: "type")
        }
        var settings = input.settings ?? [:]
        var secrets = existing
        for (key, value) in input.secrets ?? [:] {
            guard spec.secretFields.contains(key) else { throw APIError.invalid("'\(key)' is not a secret field of \(spec.type) connections", field: "secrets.\(key)") }
            secrets[key] = value
        }
        for key in settings.keys where spec.secretFields.contains(key) {
            throw APIError.invalid("'\(key)' is a secret: send it in 'secrets', not 'settings'", field: "settings.\(key)")
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
            throw APIError(.unprocessableContent, first.code, problems.map(\.message).joined(separator: "; "), field: field)
        }
        return (settingsJSON, secrets)
    }

    /// The discovery reply: when it was read and the tables (kept in the store as JSON text).
    static func discovery(at: Int64, tablesJSON: String) throws -> APIReply {
        try .json(JSONValue.object(["discovered_at": .int(at), "tables": JSONValue.parse(tablesJSON) ?? .array([])]))
    }

    static func discover(_ record: ConnectionRecord, call: APICall, schema: String?) async throws -> [TableDescription] {
        let connectors = BuiltinNodes.connectors
        guard let discoverer = connectors.connector(record.type, offering: (any SchemaDiscovering.Type).self) else {
            throw APIError.invalid("\(record.type) connections cannot be discovered; discovery needs \(connectors.describeTypes(offering: (any SchemaDiscovering.Type).self))")
        }
        let catalog = try await call.state.connections.catalog(names: [record.name])
        guard let connection = catalog.connections[record.name] else { throw APIError.notFound("connection") }
        return try await discoverer.discover(connection, schema: schema)
    }
}
