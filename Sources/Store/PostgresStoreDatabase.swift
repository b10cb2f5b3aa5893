import Logging
import NIOCore
import PostgresAccess
import PostgresNIO

/// The shared metadata store on a PostgreSQL server: any number of servers and workers can use it at once.
///
/// Owns a `PostgresClient` pool whose background task starts in `open` and ends in `close`.
public final class PostgresStoreDatabase: StoreDatabase {
    public let location: StoreLocation.Postgres
    public let dialect = SQLDialect.postgres
    let client: PostgresClient
    private let poolTask: Task<Void, Never>
    static let logger: Logger = {
        var logger = Logger(label: "sluice.store")
        logger.logLevel = .critical
        return logger
    }()

    /// Connects and checks the server answers; fails with a message naming host, port and database.
    public static func open(_ location: StoreLocation.Postgres, maximumConnections: Int = 8) async throws(StoreError) -> PostgresStoreDatabase {
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: location.password?.reveal(), database: location.database,
                                                         tls: location.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        let database = PostgresStoreDatabase(location: location, client: PostgresClient(configuration: configuration, backgroundLogger: logger))
        do {
            _ = try await database.transaction { session in try await session.query("SELECT 1 AS ok") }
        } catch {
            await database.close()
            throw StoreError(.unavailable, "cannot reach the metadata store (\(location)): \((error as? StoreError)?.message ?? "\(error)")")
        }
        return database
    }

    private init(location: StoreLocation.Postgres, client: PostgresClient) {
        self.location = location
        self.client = client
        // Cancelled in close(); the pool needs its run loop for as long as the store is open.
        poolTask = Task { await client.run() }
    }

    public var description: String { "PostgreSQL store (\(location))" }

    public func transaction<T: Sendable>(_ body: @Sendable (any StoreSession) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                let session = PostgresSession(connection: connection)
                try await session.execute("BEGIN")
                do {
                    let value = try await body(session)
                    try await session.execute("COMMIT")
                    return value
                } catch {
                    _ = try? await session.execute("ROLLBACK")
                    throw error
                }
            }
        } catch let error as PSQLError {
            throw PostgresSession.storeError(error)
        }
    }

    /// Runs `body` on a dedicated connection outside any transaction (for LISTEN).
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { try await body($0) }
    }

    public func close() async {
        poolTask.cancel()
        await poolTask.value
    }
}

/// A transaction on one pooled PostgreSQL connection.
struct PostgresSession: StoreSession {
    let connection: PostgresConnection

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        do {
            let rows = try await connection.query(Self.query(sql, binds), logger: PostgresStoreDatabase.logger)
            var result: [SQLRow] = []
            var columns: [String]?
            for try await row in rows {
                var values: [SQLValue] = []
                var names: [String] = []
                for cell in row {
                    if columns == nil { names.append(cell.columnName) }
                    values.append(Self.value(cell))
                }
                if columns == nil { columns = names }
                result.append(SQLRow(columns: columns ?? [], values: values))
            }
            return result
        } catch {
            throw Self.storeError(error)
        }
    }

    func execute(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) {
        do {
            let rows = try await connection.query(Self.query(sql, binds), logger: PostgresStoreDatabase.logger)
            for try await _ in rows {}
        } catch {
            throw Self.storeError(error)
        }
    }

    static func query(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case let .int(v): bindings.append(v)
            case let .double(v): bindings.append(v)
            case let .text(v): bindings.append(v)
            case let .blob(v): bindings.append(ByteBuffer(bytes: v))
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func value(_ cell: PostgresCell) -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return (try? cell.decode(Int64.self)).map(SQLValue.int) ?? .null
        case .float8, .float4, .numeric: return (try? cell.decode(Double.self)).map(SQLValue.double) ?? .null
        case .bool: return (try? cell.decode(Bool.self)).map { .int($0 ? 1 : 0) } ?? .null
        case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
        default: return (try? cell.decode(String.self)).map(SQLValue.text) ?? .text(String(buffer: bytes))
        }
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        let server = error as? PSQLError
        let reason = server.map(PostgresServerMessage.reason) ?? "\(error)"
        if let state = server.flatMap(PostgresServerMessage.sqlState) {
            if state.hasPrefix("23") { return StoreError(.constraint, reason) }
            if state == "40001" || state == "40P01" { return StoreError(.conflict, reason) }
            if state.hasPrefix("08") || state.hasPrefix("57P") { return StoreError(.unavailable, reason) }
            return StoreError(.internalError, reason)
        }
        return StoreError(.unavailable, reason)
    }
}
