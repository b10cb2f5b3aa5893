public import NodeKit

extension PostgresConnector: SQLRunning {
    public static func sqlSession(_ connection: Connection) async throws -> any SQLSession {
        PostgresSQLSession(try await PostgresWireSession.open(try PostgresEndpoint(connection)))
    }
}

/// Statements on one PostgreSQL connection for `sql.run` and `sql.models`: `:name` parameters become `$n`
/// and are bound as text (the server infers their types); notices come back with the result.
final class PostgresSQLSession: SQLSession, @unchecked Sendable {
    let wire: PostgresWireSession
    var dialect: SQLDialect { .postgres }

    init(_ wire: PostgresWireSession) { self.wire = wire }

    func run(_ statement: String, parameters: [String: SQLParameter]) async throws -> SQLStatementResult {
        let (sql, names) = SQLParameters.positional(statement)
        var values: [String?] = []
        for name in names {
            guard let value = parameters[name] else { throw SQLStatementError(message: "the statement uses :\(name), which is not a parameter", code: "unknown_parameter") }
            values.append(value.text)
        }
        do {
            let outcome = try await wire.run(sql, parameters: values)
            let tagWords = outcome.tag?.split(separator: " ") ?? []
            let changed = tagWords.last.flatMap { Int($0) }
            let command = tagWords.isEmpty ? nil : tagWords.prefix { Int($0) == nil }.joined(separator: " ")
            return SQLStatementResult(columns: outcome.columns, rows: outcome.rows, changed: changed, command: command,
                                      notices: outcome.notices.map { "\($0.severity ?? "NOTICE"): \($0.message)" + ($0.detail.map { " (\($0))" } ?? "") })
        } catch let error as PostgresWireError {
            guard case let .server(notice) = error else {
                throw SQLStatementError(message: error.description, isRetryable: true)
            }
            // Positions count characters of the statement as sent; parameters only shorten it (`:name` → `$n`), so
            // map the position back to the statement as written.
            let position = notice.position.map { SQLParameters.originalPosition($0, in: statement) }
            throw SQLStatementError(message: notice.message + (notice.detail.map { ": \($0)" } ?? "") + (notice.hint.map { " (hint: \($0))" } ?? ""),
                                    code: notice.sqlState, position: position, isRetryable: PostgresErrors.isRetryable(error))
        }
    }

    func close() async { await wire.close() }
}
