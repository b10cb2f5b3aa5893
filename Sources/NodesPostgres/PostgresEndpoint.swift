import Logging
import NIOSSL
import PostgresAccess
public import NodeKit
import PostgresNIO

/// The `postgres` connector: where the server is and how to log in; it lists tables and answers watermark queries.
public enum PostgresConnector: SchemaDiscovering, WatermarkProbing {
    enum SSLMode: String, Choice { case disable, prefer, require }

    static let host = Field<String>("host", summary: "Server host name or address.", example: "127.0.0.1")
    static let port = Field<Int>("port", summary: "Server port.", default: 5432)
    static let database = Field<String>("database", summary: "Database name.", example: "analytics")
    static let user = Field<String>("user", summary: "User name.", example: "loader")
    static let password = Field<String?>("password", summary: "Password (a secret: write it as ${env:NAME} or ${file:PATH}).", example: "${env:WAREHOUSE_PASSWORD}")
    static let sslmode = Field<SSLMode>("sslmode", summary: "TLS: disable, prefer (use it if the server offers it) or require.", default: .prefer)

    public static let spec = ConnectionSpec(type: "postgres", summary: "A PostgreSQL server (9.6 or newer).",
                                            fields: [host.spec, port.spec, database.spec, user.spec, password.spec, sslmode.spec],
                                            secretFields: ["password"])
}

/// A resolved PostgreSQL endpoint. Its description names host, port, database and user, never the password.
struct PostgresEndpoint: Sendable, CustomStringConvertible {
    let host: String
    let port: Int
    let database: String
    let user: String
    let password: Secret?
    let sslmode: PostgresConnector.SSLMode

    init(_ connection: Connection) throws(ConfigError) {
        let fields = connection.fields
        host = try fields[PostgresConnector.host]
        port = try fields[PostgresConnector.port]
        database = try fields[PostgresConnector.database]
        user = try fields[PostgresConnector.user]
        sslmode = try fields[PostgresConnector.sslmode]
        password = connection.secrets["password"]
    }

    init(host: String, port: Int, database: String, user: String, password: Secret?, sslmode: PostgresConnector.SSLMode) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.sslmode = sslmode
    }

    var description: String { "PostgreSQL at \(host):\(port), database \(database), user \(user)" }

    static let logger: Logger = {
        var logger = Logger(label: "sluice.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// Opens a connection; failures are retryable node errors that say where, never with what password.
    func connect() async throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch sslmode {
            case .disable: tls = .disable
            case .prefer, .require:
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none // libpq's prefer/require encrypt without verifying
                let context = try NIOSSLContext(configuration: configuration)
                tls = sslmode == .prefer ? .prefer(context) : .require(context)
            }
        } catch {
            throw NodeError(code: "tls_unavailable", message: "cannot set up TLS for \(self)", cause: "\(error)")
        }
        let configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password?.reveal(), database: database, tls: tls)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int.max), logger: Self.logger)
        } catch {
            throw NodeError(code: "connection_failed", message: "cannot connect to \(self)", isRetryable: true, cause: PostgresErrors.reason(error))
        }
    }
}

/// Safe, useful messages from postgres-nio errors (its own descriptions hide everything on purpose).
package enum PostgresErrors {
    /// The server's message and SQLSTATE, or the connection problem.
    package static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError { return PostgresServerMessage.reason(error) }
        if let error = error as? NodeError { return error.description }
        if let error = error as? PostgresWireError { return error.description }
        return "\(error)"
    }

    package static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError).flatMap(PostgresServerMessage.sqlState) ?? (error as? PostgresWireError)?.sqlState
    }

    /// Whether the server refused a value or row (class 22 data exception, 23 integrity violation) rather than failed.
    static func isRowProblem(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }

    /// Node errors, cancellation and a closed downstream (a sink that needs no more rows, which ends the
    /// read normally) as they are; anything else as a `database_error` saying what failed
    /// (`doing`, naming the server), retryable when trying again may help.
    static func nodeError(_ error: any Error, _ doing: String) -> any Error {
        if error is NodeError || error is DownstreamClosed || error is CancellationError || Task.isCancelled { return error }
        return NodeError(code: "database_error", message: doing, isRetryable: isRetryable(error), cause: reason(error))
    }

    /// Whether trying again may help (connection lost, serialization failure, deadlock).
    package static func isRetryable(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return !(error is NodeError) }
        return state.hasPrefix("08") || state == "40001" || state == "40P01" || state.hasPrefix("57P")
    }
}
