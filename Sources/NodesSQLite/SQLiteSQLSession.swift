import CSQLite
public import NodeKit
import SQLiteAccess
import Synchronization

extension SQLiteConnector: SQLRunning {
    public static func sqlSession(_ connection: Connection) async throws -> any SQLSession {
        let path = try path(of: connection)
        do {
            return SQLiteSQLSession(try SQLiteConnector.open(path, readOnly: false))
        } catch {
            throw NodeError(code: "database_unavailable", message: "\(error)", isRetryable: error.isBusy)
        }
    }
}

/// Statements on one SQLite connection for `sql.run` and `sql.models`: `:name` parameters are SQLite's own,
/// bound by name; a statement's changed rows come from `sqlite3_changes`, an error's position from
/// `sqlite3_error_offset`.
final class SQLiteSQLSession: SQLSession, @unchecked Sendable {
    private let database: Mutex<SQLiteDatabase?>
    var dialect: SQLDialect { .sqlite }

    init(_ database: sending SQLiteDatabase) { self.database = Mutex(database) }

    func run(_ statement: String, parameters: [String: SQLParameter]) async throws -> SQLStatementResult {
        try database.withLock { database throws -> SQLStatementResult in
            guard let database else { throw SQLStatementError(message: "the session is closed") }
            let prepared: SQLiteStatement
            do { prepared = try database.prepare(statement) } catch let error as SQLiteError {
                let offset = Int(sqlite3_error_offset(database.handle))
                throw SQLStatementError(message: error.message, code: "SQLITE_\(error.code)", position: offset >= 0 ? Self.characterPosition(ofByte: offset, in: statement) : nil,
                                        isRetryable: error.isBusy)
            }
            for index in stride(from: 1, through: prepared.parameterCount, by: 1) {
                guard let written = prepared.parameterName(index), let name = written.dropFirst().isEmpty ? nil : String(written.dropFirst()),
                      let value = parameters[name] else {
                    throw SQLStatementError(message: "the statement uses \(prepared.parameterName(index) ?? "?"), which is not a parameter (write :name and give it under parameters)",
                                            code: "unknown_parameter")
                }
                switch value {
                case .null: prepared.bindNull(index)
                case let .int(number): prepared.bind(index, number)
                case let .double(number): prepared.bind(index, number)
                case let .text(text): prepared.bindText(index, text)
                }
            }
            var result = SQLStatementResult(columns: (0..<prepared.columnCount).map(prepared.columnName))
            do {
                while try prepared.step() {
                    result.rows.append((0..<prepared.columnCount).map { prepared.storageClass($0) == SQLITE_NULL ? nil : prepared.text($0) })
                }
            } catch let error as SQLiteError {
                throw SQLStatementError(message: error.message, code: "SQLITE_\(error.code)", isRetryable: error.isBusy)
            }
            let verb = statement.split(whereSeparator: { $0.isWhitespace }).first.map { $0.uppercased() }
            if verb == "INSERT" || verb == "UPDATE" || verb == "DELETE" || verb == "REPLACE" || verb == "WITH" {
                result.changed = Int(sqlite3_changes64(database.handle))
            }
            result.command = verb
            return result
        }
    }

    func close() async { database.withLock { $0 = nil } }

    /// The 1-based character position of a UTF-8 byte offset.
    static func characterPosition(ofByte offset: Int, in text: String) -> Int {
        let utf8 = text.utf8
        guard let index = utf8.index(utf8.startIndex, offsetBy: offset, limitedBy: utf8.endIndex) else { return text.count }
        return text[..<index].count + 1
    }
}
