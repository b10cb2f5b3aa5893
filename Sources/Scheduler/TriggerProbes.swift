public import AsyncHTTPClient
import Foundation
public import NodeKit
import Store

/// What polled triggers need from outside: the named connections (resolved for the trigger's creator) and
/// the connectors that serve them, an HTTP client, and a directory for files triggers hand to runs (mail attachments).
public struct TriggerProbes: Sendable {
    /// The connection a trigger names, with its secrets opened.
    public var connection: @Sendable (_ name: String) async throws -> Connection
    /// The connectors, asked for the ability a trigger kind needs (watermark queries, mailboxes).
    public var connectors: ConnectorRegistry
    public var http: HTTPClient
    /// Where mailbox triggers save attachments (`<directory>/<trigger id>/<uidvalidity>-<uid>/`).
    public var filesDirectory: String
    /// Where watched and attachment directories may lead (the server's workspace roots).
    public var files: FileRoots
    /// Which hosts HTTP polls may reach (every redirect is checked too).
    public var outbound: OutboundPolicy

    public init(connection: @escaping @Sendable (_ name: String) async throws -> Connection = { name in
                    throw TriggerConfigError("unknown_connection", "no connection named '\(name)'", field: "settings.connection")
                },
                connectors: ConnectorRegistry = ConnectorRegistry([]),
                http: HTTPClient = HTTPPoll.client, filesDirectory: String = NSTemporaryDirectory() + "sluice-trigger-files",
                files: FileRoots = .unconfined(base: "/"), outbound: OutboundPolicy = .unrestricted) {
        self.connection = connection
        self.connectors = connectors
        self.http = http
        self.filesDirectory = filesDirectory
        self.files = files
        self.outbound = outbound
    }

    /// The connection a trigger names and its connector's `ability`; a `settings.connection` error naming the
    /// types that offer it when the connection's type does not.
    func connection<Ability>(_ name: String, offering ability: Ability.Type, for purpose: String) async throws -> (Connection, Ability) {
        let connection = try await connection(name)
        guard let connector = connectors.connector(connection.type, offering: ability) else {
            throw TriggerConfigError("connection_type_mismatch", "connection '\(name)' is of type \(connection.type); \(purpose) need \(connectors.describeTypes(offering: ability))",
                                     field: "settings.connection")
        }
        return (connection, connector)
    }

    /// A directory a trigger's setting names, resolved inside the workspace (`path_outside_workspace` otherwise).
    func directory(_ path: String, field: String) throws -> String {
        do { return try files.resolve(path) } catch { throw TriggerConfigError(error.code, error.message, field: field) }
    }
}

/// A poll's result: events to fire (each with the state to save with it) and the state to save when nothing fired.
struct PollResult {
    var events: [(event: TriggerEvent, state: JSONValue)] = []
    /// State to save without a firing (a baseline, files still settling, an error), or nil when unchanged.
    var quietState: JSONValue?
    /// Something to record before the events, with no runs (a mailbox whose UIDVALIDITY changed).
    var notice: (outcome: String, detail: String, event: TriggerEvent, state: JSONValue)?
}

extension JSONValue {
    var objectValue: [String: JSONValue] { if case let .object(o) = self { o } else { [:] } }
    var intValue: Int64? { if case let .int(i) = self { i } else { nil } }
}
