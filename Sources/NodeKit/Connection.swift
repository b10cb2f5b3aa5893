import Foundation

/// A secret value (password, token). Its descriptions never show the value, so it cannot leak
/// through logs, errors or events by accident; `reveal()` is the one way to read it.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The secret itself, for handing to a driver. Never print it.
    public func reveal() -> String { value }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
}

/// Declares a connection type once: its fields (which ones are secrets) drive validation and docs.
public struct ConnectionSpec: Sendable {
    public let type: String
    public let summary: String
    public let fields: [FieldSpec]
    public let secretFields: Set<String>

    public init(type: String, summary: String, fields: [FieldSpec], secretFields: Set<String>) {
        self.type = type
        self.summary = summary
        self.fields = fields
        self.secretFields = secretFields
    }
}

/// A named connection: its type, plain settings and secrets (already resolved from `${env:…}`/`${file:…}`).
///
/// Read from connections.yaml for standalone runs, and from the server's store (secrets opened by the vault).
public struct Connection: Sendable, CustomStringConvertible {
    public let name: String
    public let type: String
    public let settings: Setting
    public let secrets: [String: Secret]
    public let location: SourceLocation?
    /// Where file paths in its settings (a SQLite database) may lead: relative to the connections file for
    /// standalone runs, confined to the workspace on the server.
    public var files: FileRoots
    /// Which hosts its requests may reach: anything for standalone runs; the server's outbound policy there.
    public var outbound: OutboundPolicy = .unrestricted

    public init(name: String, type: String, settings: Setting, secrets: [String: Secret], location: SourceLocation?) {
        self.name = name
        self.type = type
        self.settings = settings
        self.secrets = secrets
        self.location = location
        let directory = location?.file.map { file in file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") } ?? ""
        files = .unconfined(base: directory.isEmpty ? "." : directory)
    }

    /// Safe to print: secrets show only as set.
    public var description: String { "\(name) (\(type)\(secrets.isEmpty ? "" : "; secrets: " + secrets.keys.sorted().joined(separator: ", ")))" }

    /// A typed view of the connection's settings, with errors attributed to the connection.
    public var fields: Settings { Settings(node: "connection '\(name)'", raw: settings) }
}

/// The connections a run can use, by name.
public struct ConnectionCatalog: Sendable {
    public let connections: [String: Connection]
    /// Where they came from, for messages ("connections.yaml").
    public let source: String?
    /// Which hosts requests made without a connection (a plain `https://` file path) may reach.
    public var outbound: OutboundPolicy = .unrestricted

    public init(_ connections: [Connection] = [], source: String? = nil) {
        self.connections = Dictionary(connections.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.source = source
    }

    public static let empty = ConnectionCatalog()

    /// The connection a node names, checked to be of the expected type.
    public func connection(_ name: String, type: String, node: String, field: String = "connection", location: SourceLocation?) throws(ConfigError) -> Connection {
        guard let connection = connections[name] else {
            let known = connections.values.filter { $0.type == type }.map(\.name).sorted()
            let place = source.map { " in \($0)" } ?? " (pass --connections FILE or put connections.yaml beside the pipeline)"
            throw ConfigError(code: "unknown_connection", message: "no connection named '\(name)'\(place)", location: location, node: node, field: field,
                              expected: known.isEmpty ? "a \(type) connection" : "one of: \(known.joined(separator: ", "))")
        }
        guard connection.type == type else {
            throw ConfigError(code: "connection_type_mismatch", message: "connection '\(name)' is a \(connection.type) connection", location: location,
                              node: node, field: field, expected: "a \(type) connection")
        }
        return connection
    }
}
