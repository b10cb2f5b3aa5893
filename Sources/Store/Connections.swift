/// A stored connection as the API shows it: plain settings and which secret fields are set, never their values.
public struct ConnectionRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var type: String
    /// The non-secret settings as a JSON object text.
    public var settingsJSON: String
    /// Names of the secret fields that hold a value.
    public var secretFields: [String]
    public var createdBy: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var keyVersion: Int64?
    /// Whether an admin shared it with every user (as `user`: they may name it in pipelines).
    public var sharedWithEveryone: Bool

    /// A record that is not stored (yet): for validating input before saving it.
    public static func preview(name: String, type: String, settingsJSON: String) -> ConnectionRecord {
        ConnectionRecord(id: "", name: name, type: type, settingsJSON: settingsJSON, secretFields: [], createdBy: "", createdAt: 0, updatedAt: 0,
                         keyVersion: nil, sharedWithEveryone: false)
    }

    private init(id: String, name: String, type: String, settingsJSON: String, secretFields: [String], createdBy: String, createdAt: Int64,
                 updatedAt: Int64, keyVersion: Int64?, sharedWithEveryone: Bool) {
        self.id = id
        self.name = name
        self.type = type
        self.settingsJSON = settingsJSON
        self.secretFields = secretFields
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.keyVersion = keyVersion
        self.sharedWithEveryone = sharedWithEveryone
    }

    init(row: SQLRow) throws {
        id = try row.required("id")
        name = try row.required("name")
        type = try row.required("type")
        settingsJSON = try row.required("settings")
        secretFields = try row.required("secret_fields").split(separator: ",").map(String.init)
        createdBy = try row.required("created_by")
        createdAt = try row.requiredInt("created_at")
        updatedAt = try row.requiredInt("updated_at")
        keyVersion = row.int("key_version")
        sharedWithEveryone = row.int("shared_with_everyone") == 1
    }
}

extension MetadataStore {
    static let connectionColumns = "id, name, type, settings, secret_fields, created_by, created_at, updated_at, key_version, shared_with_everyone"

    public func connections() async throws -> [ConnectionRecord] {
        try await transaction { try await $0.query("SELECT \(Self.connectionColumns) FROM connections ORDER BY name").map({ try ConnectionRecord(row: $0) }) }
    }

    public func connection(id: String) async throws -> ConnectionRecord? {
        try await transaction { try await $0.first("SELECT \(Self.connectionColumns) FROM connections WHERE id = $1", .text(id)).map({ try ConnectionRecord(row: $0) }) }
    }

    public func connection(named name: String) async throws -> ConnectionRecord? {
        try await transaction { try await $0.first("SELECT \(Self.connectionColumns) FROM connections WHERE name = $1", .text(name)).map({ try ConnectionRecord(row: $0) }) }
    }

    /// The sealed secrets of a connection (open them with the vault).
    public func sealedSecrets(connectionID: String) async throws -> (sealed: [UInt8], keyVersion: Int64)? {
        try await transaction { session in
            guard let row = try await session.first("SELECT sealed_secrets, key_version FROM connections WHERE id = $1", .text(connectionID)),
                  let sealed = row.blob("sealed_secrets") else { return nil }
            return (sealed, row.int("key_version") ?? 0)
        }
    }

    public func createConnection(id: String, name: String, type: String, settingsJSON: String, secretFields: [String],
                                 sealed: (sealed: [UInt8], keyVersion: Int64)?, createdBy: String) async throws -> ConnectionRecord {
        let at = now()
        return try await transaction { session in
            let rows = try await session.query("""
                INSERT INTO connections (id, name, type, settings, sealed_secrets, secret_fields, key_version, created_by, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING \(Self.connectionColumns)
                """, .text(id), .text(name), .text(type), .text(settingsJSON), sealed.map { .blob($0.sealed) } ?? .null,
                   .text(secretFields.sorted().joined(separator: ",")), .optional(sealed?.keyVersion), .text(createdBy), .int(at))
            return try ConnectionRecord(row: rows[0])
        }
    }

    /// Replaces settings and (when `sealed` is given) the secrets; clears the cached discovery.
    public func updateConnection(id: String, name: String, settingsJSON: String, secretFields: [String],
                                 sealed: (sealed: [UInt8], keyVersion: Int64)??) async throws -> ConnectionRecord? {
        let at = now()
        return try await transaction { session in
            try await session.execute("UPDATE connections SET name = $2, settings = $3, secret_fields = $4, updated_at = $5, discovery = NULL WHERE id = $1",
                                      .text(id), .text(name), .text(settingsJSON), .text(secretFields.sorted().joined(separator: ",")), .int(at))
            if let sealed {
                try await session.execute("UPDATE connections SET sealed_secrets = $2, key_version = $3 WHERE id = $1",
                                          .text(id), sealed.map { .blob($0.sealed) } ?? .null, .optional(sealed?.keyVersion))
            }
            return try await session.first("SELECT \(Self.connectionColumns) FROM connections WHERE id = $1", .text(id)).map({ try ConnectionRecord(row: $0) })
        }
    }

    public func deleteConnection(id: String) async throws -> Bool {
        try await transaction { try await $0.query("DELETE FROM connections WHERE id = $1 RETURNING id", .text(id)).count == 1 }
    }

    /// The cached schema discovery (JSON text) and when it was taken.
    public func cachedDiscovery(connectionID: String) async throws -> (json: String, at: Int64)? {
        try await transaction { session in
            guard let row = try await session.first("SELECT discovery, discovered_at FROM connections WHERE id = $1", .text(connectionID)),
                  let json = row.text("discovery") else { return nil }
            return (json, row.int("discovered_at") ?? 0)
        }
    }

    public func cacheDiscovery(connectionID: String, json: String) async throws {
        let at = now()
        try await transaction { try await $0.execute("UPDATE connections SET discovery = $2, discovered_at = $3 WHERE id = $1", .text(connectionID), .text(json), .int(at)) }
    }
}
