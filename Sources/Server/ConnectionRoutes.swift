import Foundation
import Services
import Store

/// Connections over HTTP: CRUD with write-only secrets, a connectivity test, cached schema discovery, and sharing.
/// Who may do what is the `Connections` service's rule (others' connections answer 404, so their names are not revealed).
enum ConnectionRoutes {
    /// A connection as responses show it: settings and which secrets are set, never their values; `role` is the caller's.
    struct ConnectionView: APIView {
        var id: String, name: String, type: String, settings: [String: JSONValue], secretsSet: [String], createdBy: String, createdAt: Int64, updatedAt: Int64
        var role: ConnectionRole, sharedWithEveryone: Bool
        init(_ r: ConnectionRecord, role: ConnectionRole) {
            id = r.id; name = r.name; type = r.type; settings = JSONValue.parse(r.settingsJSON)?.objectValue ?? [:]; secretsSet = r.secretFields
            createdBy = r.createdBy; createdAt = r.createdAt; updatedAt = r.updatedAt
            self.role = role; sharedWithEveryone = r.sharedWithEveryone
        }
    }
    /// Who may use a connection: its owner, whether everyone may, and its shares.
    struct SharesView: APIView {
        var owner: String
        var sharedWithEveryone: Bool
        var shares: [ShareView]
    }
    struct ShareInput: Codable { var role: ConnectionRole }
    struct EveryoneInput: Codable { var shared: Bool }
    /// What a connection test found.
    struct TestResult: APIView { var ok: Bool; var message: String; var tables: Int? }
    /// Discovered tables (as JSON) and when they were read.
    struct Discovery: APIView { var discoveredAt: Int64; var tables: [[String: JSONValue]] }

    static let input = APISchema.of(ConnectionInput.self)

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/connections", "listConnections", "The connections you may use (secrets only as names of set fields), with your role.",
                 tag: "connections", response: APISchema.array(APISchema.ref("Connection"))) { call in
            try .json(try await call.services.connections.list(for: try call.caller).map { ConnectionView($0.0, role: $0.1) })
        },
        Endpoint(.post, "/api/v1/connections", "createConnection", "Creates a connection; secrets are sealed by the vault.", tag: "connections",
                 request: input, status: .created, response: APISchema.ref("Connection")) { call in
            let record = try await call.services.connections.create(try call.decode(ConnectionInput.self), by: try call.caller)
            return try .json(ConnectionView(record, role: .owner), status: .created)
        },
        Endpoint(.get, "/api/v1/connections/{id}", "getConnection", "One connection.", tag: "connections", response: APISchema.ref("Connection")) { call in
            let (record, role) = try await call.services.connections.get(call.parameter("id"), for: try call.caller)
            return try .json(ConnectionView(record, role: role))
        },
        Endpoint(.put, "/api/v1/connections/{id}", "updateConnection", "Replaces a connection's settings; omitted secrets keep their values.",
                 tag: "connections", request: input, response: APISchema.ref("Connection")) { call in
            let (record, role) = try await call.services.connections.update(call.parameter("id"), by: try call.caller) { try call.decode(ConnectionInput.self) }
            return try .json(ConnectionView(record, role: role))
        },
        Endpoint(.delete, "/api/v1/connections/{id}", "deleteConnection", "Deletes a connection (its owner or an admin).", tag: "connections", status: .noContent, response: nil) { call in
            try await call.services.connections.delete(call.parameter("id"), by: try call.caller)
            return .noContent
        },
        Endpoint(.post, "/api/v1/connections/{id}/test", "testConnection", "Connects and lists tables (mail servers: logs in and lists mailboxes) to prove the connection works.", tag: "connections",
                 response: TestResult.schema) { call in
            let result = try await call.services.connections.test(call.parameter("id"), for: try call.caller)
            return try .json(TestResult(ok: result.ok, message: result.message, tables: result.tables))
        },
        Endpoint(.get, "/api/v1/connections/{id}/discover", "discoverConnection", "Tables, columns, types and keys (cached; ?refresh=true to re-read).",
                 tag: "connections", query: [QueryParameter(name: "refresh", schema: APISchema.boolean, description: "re-read the schema instead of the cache"),
                                             QueryParameter(name: "schema", schema: APISchema.string, description: "only this schema (PostgreSQL)")],
                 response: Discovery.schema, errors: [.unprocessableContent, .badGateway]) { call in
            let found = try await call.services.connections.discover(call.parameter("id"), refresh: call.query("refresh") == "true", schema: call.query("schema"),
                                                                     for: try call.caller)
            return try .json(Discovery(discoveredAt: found.at, tables: (JSONValue.parse(found.tablesJSON)?.arrayValue ?? []).compactMap(\.objectValue)))
        },
        Endpoint(.get, "/api/v1/connections/{id}/shares", "listConnectionShares", "Who may use the connection: its owner, its shares, and whether everyone may.",
                 tag: "sharing", response: SharesView.schema) { call in
            let (record, shares) = try await call.services.connections.shares(call.parameter("id"), for: try call.caller)
            return try .json(SharesView(owner: record.createdBy, sharedWithEveryone: record.sharedWithEveryone, shares: shares.map(ShareView.init)))
        },
        Endpoint(.put, "/api/v1/connections/{id}/shares/{user}", "setConnectionShare",
                 "Shares the connection with a user (by id) as user (may name it in pipelines) or editor (may also change it); owners only.",
                 tag: "sharing", request: APISchema.of(ShareInput.self), status: .noContent, response: nil) { call in
            try await call.services.connections.share(call.parameter("id"), with: call.parameter("user"), by: try call.caller) { try call.decode(ShareInput.self).role.rawValue }
            return .noContent
        },
        Endpoint(.delete, "/api/v1/connections/{id}/shares/{user}", "deleteConnectionShare", "Stops sharing the connection with a user; owners only.",
                 tag: "sharing", status: .noContent, response: nil) { call in
            try await call.services.connections.unshare(call.parameter("id"), with: call.parameter("user"), by: try call.caller)
            return .noContent
        },
        Endpoint(.put, "/api/v1/connections/{id}/everyone", "shareConnectionWithEveryone",
                 "Lets every user name the connection in pipelines (as user), or stops it; admins only.", tag: "sharing", access: .admin,
                 request: APISchema.of(EveryoneInput.self), status: .noContent, response: nil) { call in
            try await call.services.connections.shareWithEveryone(call.parameter("id"), by: try call.caller) { try call.decode(EveryoneInput.self).shared }
            return .noContent
        },
    ]
}
