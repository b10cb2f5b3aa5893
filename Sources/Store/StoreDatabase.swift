/// Which SQL engine holds the metadata store; queries are written once and differ only where noted.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// Runs queries inside one open transaction. Parameters are written `$1`, `$2`, … in both dialects.
public protocol StoreSession: Sendable {
    /// Runs a statement and returns all its rows (metadata queries are small; large ones page with LIMIT).
    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow]
    /// Runs a statement for its effect. To learn which rows changed, `query` with `RETURNING`
    /// (portable; postgres-nio does not report affected-row counts).
    func execute(_ sql: String, _ binds: [SQLValue]) async throws(StoreError)
}

extension StoreSession {
    public func query(_ sql: String, _ binds: SQLValue...) async throws(StoreError) -> [SQLRow] { try await query(sql, binds) }
    public func execute(_ sql: String, _ binds: SQLValue...) async throws(StoreError) { try await execute(sql, binds) }
    public func first(_ sql: String, _ binds: SQLValue...) async throws(StoreError) -> SQLRow? { try await query(sql, binds).first }
}

/// A database that holds Sluice's metadata: embedded SQLite or a PostgreSQL server.
///
/// Every read and write happens in `transaction`; the transaction commits when the body returns
/// and rolls back when it throws.
public protocol StoreDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// A description safe to print: path or host/database, never a password.
    var description: String { get }
    func transaction<T: Sendable>(_ body: @Sendable (any StoreSession) async throws -> T) async throws -> T
    /// Releases connections; called exactly once, at shutdown.
    func close() async
}

/// A metadata-store failure. Its message is safe to show (no secrets, no SQL parameters).
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable { case unavailable, constraint, conflict, notFound = "not_found", invalid, internalError = "internal" }
    public let kind: Kind
    public let message: String
    public var isRetryable: Bool { kind == .unavailable }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
