import CSQLite
import Foundation
import SQLiteAccess

/// The embedded metadata store: one SQLite file in the data directory, WAL mode.
///
/// One connection serves the whole process; `AsyncMutex` gives each transaction exclusive use of it.
/// Transactions start with `BEGIN IMMEDIATE`, so two processes sharing the file (a server and
/// `sluice user add`) serialize their writes instead of failing on upgrade.
public final class SQLiteStoreDatabase: StoreDatabase, @unchecked Sendable {
    // @unchecked: `connection` is only touched while `mutex` is held.
    private let connection: SQLiteDatabase
    private let mutex = AsyncMutex()
    public let path: String
    public let dialect = SQLDialect.sqlite

    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            connection = try SQLiteDatabase(path: path, readOnly: false)
            try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        } catch {
            throw StoreError(.unavailable, "cannot open the metadata store \(path): \(error.message)")
        }
    }

    public var description: String { "SQLite store \(path)" }

    public func transaction<T: Sendable>(_ body: @Sendable (any StoreSession) async throws -> T) async throws -> T {
        try await mutex.withLock {
            let session = SQLiteSession(connection: connection)
            try session.run("BEGIN IMMEDIATE")
            do {
                let value = try await body(session)
                try session.run("COMMIT")
                return value
            } catch {
                try? session.run("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async {}
}

/// A transaction on the embedded store; valid only inside `SQLiteStoreDatabase.transaction`.
private struct SQLiteSession: StoreSession, @unchecked Sendable {
    // @unchecked: used only while the database's AsyncMutex is held.
    let connection: SQLiteDatabase

    func run(_ sql: String) throws(StoreError) {
        do { try connection.execute(sql) } catch { throw Self.storeError(error) }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        try rows(sql, binds)
    }

    func execute(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) {
        _ = try rows(sql, binds)
    }

    private func rows(_ sql: String, _ binds: [SQLValue]) throws(StoreError) -> [SQLRow] {
        do {
            let statement = try connection.prepare(sql)
            for index in stride(from: 1, through: statement.parameterCount, by: 1) {
                // "$3" binds the third value, wherever it appears.
                guard let name = statement.parameterName(index), let position = Int(name.dropFirst()), position >= 1, position <= binds.count else {
                    throw StoreError(.internalError, "query parameter \(index) has no value")
                }
                switch binds[position - 1] {
                case .null: statement.bindNull(index)
                case let .int(v): statement.bind(index, v)
                case let .double(v): statement.bind(index, v)
                case let .text(v): statement.bindText(index, v)
                case let .blob(v): v.withUnsafeBufferPointer { statement.bindBlob(index, $0) }
                }
            }
            let columns = (0..<statement.columnCount).map { statement.columnName($0) }
            var rows: [SQLRow] = []
            while try statement.step() {
                var values: [SQLValue] = []
                values.reserveCapacity(columns.count)
                for i in 0..<columns.count {
                    switch statement.storageClass(i) {
                    case SQLITE_INTEGER: values.append(.int(statement.int(i)))
                    case SQLITE_FLOAT: values.append(.double(statement.double(i)))
                    case SQLITE_TEXT: values.append(.text(statement.text(i)))
                    case SQLITE_BLOB: values.append(.blob(Array(statement.bytes(i))))
                    default: values.append(.null)
                    }
                }
                rows.append(SQLRow(columns: columns, values: values))
            }
            return rows
        } catch let error as SQLiteError {
            throw Self.storeError(error)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.internalError, "\(error)")
        }
    }

    static func storeError(_ error: SQLiteError) -> StoreError {
        if error.isConstraint { return StoreError(.constraint, error.message) }
        if error.isBusy { return StoreError(.unavailable, "the metadata store is busy: \(error.message)") }
        return StoreError(.internalError, error.message)
    }
}
