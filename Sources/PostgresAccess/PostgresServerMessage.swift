package import PostgresNIO

/// What a PostgreSQL server said, read from postgres-nio's errors (whose own descriptions hide everything on
/// purpose): the low-level access the PostgreSQL connector and the metadata store share.
package enum PostgresServerMessage {
    /// The server's message, detail and SQLSTATE, or the connection problem.
    package static func reason(_ error: PSQLError) -> String {
        if let info = error.serverInfo, let message = info[.message] {
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            let detail = info[.detail].map { ": \($0)" } ?? ""
            return message + detail + state
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    /// The SQLSTATE the server answered with, if it answered.
    package static func sqlState(_ error: PSQLError) -> String? { error.serverInfo?[.sqlState] }
}
