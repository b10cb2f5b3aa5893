import BuiltinNodes
import Foundation
public import NodeKit
public import Store

/// Whose pipeline a connection catalog is built for: a user (nil when the requester no longer exists, who may
/// then use only the connections shared with everyone).
public struct ConnectionActor: Sendable {
    public let user: User?
    public init(_ user: User?) { self.user = user }
}

/// A pipeline names stored connections its user may not use; their owners (or an admin) can share them.
public struct ConnectionForbidden: Error, CustomStringConvertible, Sendable {
    public let names: [String]
    public let actor: String?
    public init(names: [String], actor: String?) {
        self.names = names
        self.actor = actor
    }
    public var description: String {
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        return "\(actor.map { "\($0) may" } ?? "this pipeline's user may") not use connection \(list): ask its owner or an admin to share it"
    }
}

/// Turns connections stored by the server into the `ConnectionCatalog` the planner uses, opening secrets with the vault.
public struct StoredConnections: Sendable {
    public let store: MetadataStore
    public let vault: Vault
    /// The workspace every connection's file paths are confined to.
    public let files: FileRoots
    /// Which hosts the connections' requests may reach (the server's outbound policy).
    public let outbound: OutboundPolicy

    public init(store: MetadataStore, vault: Vault, files: FileRoots, outbound: OutboundPolicy = .unrestricted) {
        self.outbound = outbound
        self.store = store
        self.vault = vault
        self.files = files
    }

    /// A catalog with the named connections (all when `names` is nil). Fails with "vault is locked" when a
    /// needed connection has secrets and the vault is locked.
    ///
    /// `actingAs` is whose pipeline this is (a run's requester, a preview's caller, a trigger's owner): a named
    /// connection they may not use fails with `ConnectionForbidden` before any secret is opened. Nil for the
    /// server's own checks that a route has authorized already.
    public func catalog(names: Set<String>? = nil, actingAs actor: ConnectionActor? = nil) async throws -> ConnectionCatalog {
        var records = try await store.connections()
        if let names { records = records.filter { names.contains($0.name) } }
        if let actor {
            let roles = try await store.connectionRoles(of: actor.user)
            let forbidden = records.filter { roles[$0.id] == nil }.map(\.name).sorted()
            if !forbidden.isEmpty { throw ConnectionForbidden(names: forbidden, actor: actor.user?.name) }
        }
        var connections: [Connection] = []
        for record in records {
            var secrets: [String: String] = [:]
            if let sealed = try await store.sealedSecrets(connectionID: record.id) {
                secrets = try await vault.open(sealed.sealed, connectionID: record.id, keyVersion: sealed.keyVersion)
            }
            var connection = try Self.connection(record, secrets: secrets)
            connection.files = files
            connection.outbound = outbound
            try refuseStoreDatabase(connection)
            connections.append(connection)
        }
        var catalog = ConnectionCatalog(connections, source: "the server's connections")
        catalog.outbound = outbound
        return catalog
    }

    /// Builds one connection; values are literal (no `${env:…}` on the server).
    public static func connection(_ record: ConnectionRecord, secrets: [String: String]) throws(ConfigErrors) -> Connection {
        let settings = (try? JSONSerialization.jsonObject(with: Data(record.settingsJSON.utf8))) as? [String: Any] ?? [:]
        var merged = settings
        merged["type"] = record.type
        for (key, value) in secrets { merged[key] = value }
        let data = (try? JSONSerialization.data(withJSONObject: [record.name: merged], options: [.sortedKeys])) ?? Data("{}".utf8)
        let catalog = try ConnectionsFile.parse(String(decoding: data, as: UTF8.self), file: nil, specs: BuiltinNodes.connectors.specs,
                                                environment: [:], resolveReferences: false)
        guard let connection = catalog.connections[record.name] else {
            throw ConfigErrors([ConfigError(code: "invalid_value", message: "connection '\(record.name)' could not be read", field: "name")])
        }
        return connection
    }

    /// Refuses a connection whose `host`, `port` and `database` name the server's own PostgreSQL store (hosts
    /// compared by the addresses they resolve to, so `localhost` and `127.0.0.1` are one): pipelines must never
    /// read or write the metadata store. (SQLite stores are kept out by the workspace confinement of paths.)
    func refuseStoreDatabase(_ connection: Connection) throws(ConfigErrors) {
        guard case let .postgres(store)? = store.location,
              let host = connection.settings["host"]?.scalarText, let database = connection.settings["database"]?.scalarText else { return }
        let port = connection.settings["port"]?.scalarText.flatMap { Int($0) } ?? 5432
        guard port == store.port, database == store.database, !Self.addresses(host).isDisjoint(with: Self.addresses(store.host)) else { return }
        throw ConfigErrors([ConfigError(code: "store_unreachable", message: "connection '\(connection.name)' leads to the server's own metadata database (\(store.host):\(store.port)/\(store.database)); pipelines cannot use it",
                                        node: "connection '\(connection.name)'", field: "database")])
    }

    /// The addresses a host resolves to; every loopback address counts as the same machine.
    static func addresses(_ host: String) -> Set<String> {
        var result = Set(OutboundPolicy.addresses(host))
        if result.contains(where: { $0.hasPrefix("127.") || $0 == "::1" }) { result.insert("loopback") }
        return result
    }

    /// A resolver for compiling pipelines as `actor`: only the connections they may use.
    public func resolver(actingAs actor: ConnectionActor) -> StoredConnectionResolver {
        StoredConnectionResolver(connections: self, actor: actor)
    }
}

/// The server's stored connections as a compile sees them, acting as one user.
public struct StoredConnectionResolver: ConnectionResolver {
    let connections: StoredConnections
    let actor: ConnectionActor

    public func catalog(for names: Set<String>) async throws -> ConnectionCatalog {
        try await connections.catalog(names: names, actingAs: actor)
    }
}
