import BuiltinNodes
import Foundation
import NodeKit
import Store
import Workers

/// Connections: CRUD with write-only secrets, a connectivity test, and cached schema discovery.
enum ConnectionRoutes {
    /// A connection as responses show it: settings and which secrets are set, never their values.
    struct ConnectionView: Encodable {
        var id: String, name: String, type: String, settings: JSONValue, secretsSet: [String], createdBy: String, createdAt: Int64, updatedAt: Int64
        init(_ r: ConnectionRecord) {
            id = r.id; name = r.name; type = r.type; settings = JSONValue.parse(r.settingsJSON) ?? .object([:]); secretsSet = r.secretFields
            createdBy = r.createdBy; createdAt = r.createdAt; updatedAt = r.updatedAt
        }
    }
    /// Create or replace. `secrets` values are written, never read back; on update, omitted secret fields keep their value and `null` clears one.
    struct ConnectionInput: Decodable { var name: String; var type: String; var settings: [String: JSONValue]?; var secrets: [String: String?]? }
    struct TestResult: Codable { var ok: Bool; var message: String; var tables: Int? }

    static let schema = Schema.object(["id": Schema.string, "name": Schema.string, "type": Schema.string, "settings": Schema.anyObject,
                                       "secrets_set": Schema.array(Schema.string), "created_by": Schema.string, "created_at": Schema.integer,
                                       "updated_at": Schema.integer])
    static let input = Schema.object(["name": Schema.string, "type": Schema.string, "settings": Schema.anyObject,
                                      "secrets": Schema.map(Schema.nullable(Schema.string))], optional: ["settings", "secrets"])

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/connections", "listConnections", "All connections (secrets only as names of set fields).", tag: "connections",
                 response: Schema.array(Schema.ref("Connection"))) { call in
            try .json(try await call.state.store.connections().map(ConnectionView.init))
        },
        Endpoint(.post, "/api/v1/connections", "createConnection", "Creates a connection; secrets are sealed by the vault.", tag: "connections",
                 request: input, status: .created, response: Schema.ref("Connection")) { call in
            let user = try call.caller
            let body = try call.decode(ConnectionInput.self)
            let (settings, secrets) = try validate(body, keeping: [:])
            let id = MetadataStore.newID()
            let sealed = secrets.isEmpty ? nil : try await call.state.vault.seal(secrets, connectionID: id)
            let record = try await call.state.store.createConnection(id: id, name: body.name, type: body.type, settingsJSON: settings,
                                                                     secretFields: Array(secrets.keys), sealed: sealed, createdBy: user.name)
            try await call.state.store.audit(actor: user.name, action: "connection_create", target: body.name,
                                             detail: secrets.isEmpty ? nil : "secrets set: \(secrets.keys.sorted().joined(separator: ", "))", address: call.address)
            return try .json(ConnectionView(record), status: .created)
        },
        Endpoint(.get, "/api/v1/connections/{id}", "getConnection", "One connection.", tag: "connections", response: Schema.ref("Connection")) { call in
            try .json(ConnectionView(try await record(call)))
        },
        Endpoint(.put, "/api/v1/connections/{id}", "updateConnection", "Replaces a connection's settings; omitted secrets keep their values.",
                 tag: "connections", request: input, response: Schema.ref("Connection")) { call in
            let user = try call.caller
            let existing = try await record(call)
            try mayModify(existing, user)
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
            return try .json(ConnectionView(record))
        },
        Endpoint(.delete, "/api/v1/connections/{id}", "deleteConnection", "Deletes a connection.", tag: "connections", status: .noContent, response: nil) { call in
            let user = try call.caller
            let existing = try await record(call)
            try mayModify(existing, user)
            _ = try await call.state.store.deleteConnection(id: existing.id)
            try await call.state.store.audit(actor: user.name, action: "connection_delete", target: existing.name, address: call.address)
            return .noContent
        },
        Endpoint(.post, "/api/v1/connections/{id}/test", "testConnection", "Connects and lists tables (mail servers: logs in and lists mailboxes) to prove the connection works.", tag: "connections",
                 response: Schema.object(["ok": Schema.boolean, "message": Schema.string, "tables": Schema.nullable(Schema.integer)], optional: ["tables"])) { call in
            let existing = try await record(call)
            do {
                if let check = BuiltinNodes.connectionChecks.first(where: { $0.connectionType == existing.type }) {
                    let catalog = try await call.state.connections.catalog(names: [existing.name])
                    guard let connection = catalog.connections[existing.name] else { throw APIError.notFound("connection") }
                    return try .json(TestResult(ok: true, message: try await check.check(connection), tables: nil))
                }
                let tables = try await discover(existing, call: call, schema: nil)
                return try .json(TestResult(ok: true, message: "connected", tables: tables.count))
            } catch let error as VaultError {
                throw error
            } catch {
                return try .json(TestResult(ok: false, message: "\(error)", tables: nil))
            }
        },
        Endpoint(.get, "/api/v1/connections/{id}/discover", "discoverConnection", "Tables, columns, types and keys (cached; ?refresh=true to re-read).",
                 tag: "connections", query: [QueryParameter(name: "refresh", schema: Schema.boolean, description: "re-read the schema instead of the cache"),
                                             QueryParameter(name: "schema", schema: Schema.string, description: "only this schema (PostgreSQL)")],
                 response: Schema.object(["discovered_at": Schema.integer, "tables": Schema.array(Schema.anyObject)])) { call in
            let existing = try await record(call)
            let schema = call.query("schema")
            if call.query("refresh") != "true", schema == nil, let cached = try await call.state.store.cachedDiscovery(connectionID: existing.id) {
                return APIReply(status: .ok, contentType: "application/json", body: Data("{\"discovered_at\":\(cached.at),\"tables\":\(cached.json)}".utf8))
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
            return APIReply(status: .ok, contentType: "application/json", body: Data("{\"discovered_at\":\(call.state.store.now()),\"tables\":\(json)}".utf8))
        },
    ]

    static func record(_ call: APICall) async throws -> ConnectionRecord {
        guard let record = try await call.state.store.connection(id: call.parameter("id")) else { throw APIError.notFound("connection") }
        return record
    }

    /// Admins and the creator may change or delete a connection; everyone may use it.
    static func mayModify(_ record: ConnectionRecord, _ user: User) throws {
        guard user.role == .admin || record.createdBy == user.name else {
            throw APIError.forbidden("only admins and \(record.createdBy), who created it, can change this connection")
        }
    }

    /// Checks fields against the connection type's spec; returns settings JSON and the secrets to seal.
    static func validate(_ input: ConnectionInput, keeping existing: [String: String]) throws -> (settings: String, secrets: [String: String]) {
        guard !input.name.isEmpty, input.name.count <= 100, input.name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw APIError.invalid("connection names have 1 to 100 letters, digits, '_', '-' or '.'", field: "name")
        }
        guard let spec = BuiltinNodes.connectionTypes.first(where: { $0.type == input.type }) else {
            throw APIError.invalid("unknown connection type '\(input.type)'; known: \(BuiltinNodes.connectionTypes.map(\.type).joined(separator: ", "))", field: "type")
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

    static func discover(_ record: ConnectionRecord, call: APICall, schema: String?) async throws -> [TableDescription] {
        guard let discoverer = BuiltinNodes.discoverers.first(where: { $0.connectionType == record.type }) else {
            throw APIError.invalid("\(record.type) connections cannot be discovered")
        }
        let catalog = try await call.state.connections.catalog(names: [record.name])
        guard let connection = catalog.connections[record.name] else { throw APIError.notFound("connection") }
        return try await discoverer.discover(connection, schema: schema)
    }
}
