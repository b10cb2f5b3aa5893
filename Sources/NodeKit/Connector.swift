/// A connector, declared once: the settings of its connections (`spec`, which drives validation, docs, the
/// API and the UI form) and the abilities it offers beyond its nodes, each a protocol it may adopt
/// (`SchemaDiscovering`, `WatermarkProbing`, `MailboxWatching`).
///
/// Connectors are listed once (`BuiltinNodes.connectors`). Code outside a connector's own target never names
/// its type string: it looks the connector up by a connection's type and asks for the ability it needs.
public protocol Connector: Sendable {
    static var spec: ConnectionSpec { get }
    /// Proves a connection works (connects, logs in) and says so in a short summary for the user.
    static func check(_ connection: Connection) async throws -> ConnectionCheckResult
}

/// What a connection test found.
public struct ConnectionCheckResult: Sendable, Equatable {
    public let message: String
    /// How many tables the connection shows, for connectors that discover schemas.
    public let tables: Int?

    public init(message: String, tables: Int? = nil) {
        self.message = message
        self.tables = tables
    }
}

/// Lists the tables of a connection (`sluice discover`, the editor's schema browser).
public protocol SchemaDiscovering: Connector {
    static func discover(_ connection: Connection, schema: String?) async throws -> [TableDescription]
}

extension SchemaDiscovering {
    /// Connecting and listing the tables proves a database connection works.
    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        ConnectionCheckResult(message: "connected", tables: try await discover(connection, schema: nil).count)
    }
}

/// Answers the query of a database-watermark trigger.
public protocol WatermarkProbing: Connector {
    /// Runs one read-only query and returns its first row as text (NULL as nil), or nil when it has no rows.
    /// Small results only.
    static func firstRow(_ connection: Connection, sql: String) async throws -> [String?]?
}

/// Every connector this build knows, looked up by connection type.
public struct ConnectorRegistry: Sendable {
    public let all: [any Connector.Type]

    public init(_ all: [any Connector.Type]) { self.all = all }

    /// The connection types, in registry order.
    public var specs: [ConnectionSpec] { all.map { $0.spec } }

    /// The connector of a connection type.
    public func connector(_ type: String) -> (any Connector.Type)? { all.first { $0.spec.type == type } }

    /// The connector of `type` when it offers `ability` (`SchemaDiscovering.self`, …).
    public func connector<Ability>(_ type: String, offering ability: Ability.Type) -> Ability? {
        connector(type) as? Ability
    }

    /// The types whose connectors offer `ability`, for messages ("needs a postgres or sqlite connection").
    public func types<Ability>(offering ability: Ability.Type) -> [String] {
        all.filter { $0 is Ability }.map { $0.spec.type }
    }

    /// "a postgres or sqlite connection": the types offering an ability, named for an error message.
    public func describeTypes<Ability>(offering ability: Ability.Type) -> String {
        let names = types(offering: ability)
        guard let first = names.first else { return "no connection type" }
        let article = "aeiou".contains(first.prefix(1).lowercased()) ? "an" : "a"
        let listed = names.count == 1 ? first : names.dropLast().joined(separator: ", ") + " or " + names.last!
        return "\(article) \(listed) connection"
    }
}
