import Foundation
public import NodeKit

/// Where the metadata store lives: an SQLite file, or a PostgreSQL server given as `postgres://user:password@host:port/database`.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(Postgres)

    /// A PostgreSQL store's address. Its description never includes the password.
    public struct Postgres: Sendable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var database: String
        public var user: String
        public var password: Secret?
        public var requireTLS: Bool

        public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
    }

    public var description: String {
        switch self {
        case let .sqlite(path): "sqlite:\(path)"
        case let .postgres(p): p.description
        }
    }

    /// Parses `--store`: a `postgres://` / `postgresql://` URL, `sqlite:PATH`, or a plain file path.
    public static func parse(_ text: String) throws(StoreError) -> StoreLocation {
        if text.hasPrefix("sqlite:") { return .sqlite(path: String(text.dropFirst("sqlite:".count))) }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else { return .sqlite(path: text) }
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw StoreError(.invalid, "--store must look like postgres://user:password@host:5432/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        let query = components.queryItems ?? []
        let sslmode = query.first { $0.name == "sslmode" }?.value ?? "disable"
        return .postgres(Postgres(host: host, port: components.port ?? 5432, database: database.isEmpty ? "postgres" : database,
                                  user: components.user ?? "postgres", password: components.password.map { Secret($0.removingPercentEncoding ?? $0) },
                                  requireTLS: sslmode == "require"))
    }

    /// Opens the database (creating the SQLite file's directory when needed).
    public func open() async throws(StoreError) -> any StoreDatabase {
        switch self {
        case let .sqlite(path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return try SQLiteStoreDatabase(path: path)
        case let .postgres(location):
            return try await PostgresStoreDatabase.open(location)
        }
    }
}
