import CSQLite

/// An error from SQLite: the result code and SQLite's message (which never contains secrets).
package struct SQLiteError: Error, CustomStringConvertible {
    package let code: Int32
    package let message: String

    package var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }
    package var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
    package var description: String { message }
}

/// One SQLite connection, used by one task at a time (not shared across tasks): the low-level access the
/// SQLite connector and the embedded metadata store share.
package final class SQLiteDatabase {
    package let path: String
    package private(set) var handle: OpaquePointer?

    package init(path: String, readOnly: Bool) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "cannot open SQLite database '\(path)': \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Refuses `ATTACH` and `VACUUM INTO` on this connection: SQL a pipeline runs then reaches no other file
    /// (another database, the server's own store).
    package func forbidAttaching() {
        sqlite3_limit(handle, SQLITE_LIMIT_ATTACHED, 0)
    }

    package func execute(_ sql: String) throws(SQLiteError) {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(error)
            throw SQLiteError(code: rc, message: message)
        }
    }

    package func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle))) }
        return SQLiteStatement(statement, database: handle)
    }
}

/// A prepared statement with binding and column access.
package final class SQLiteStatement {
    private let statement: OpaquePointer
    private let database: OpaquePointer?
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    package init(_ statement: OpaquePointer, database: OpaquePointer?) {
        self.statement = statement
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    /// Advances; true when a row is available, false when done.
    package func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(database)))
    }

    package func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    package var columnCount: Int { Int(sqlite3_column_count(statement)) }
    package func parameterIndex(_ name: String) -> Int { Int(sqlite3_bind_parameter_index(statement, name)) }
    package var parameterCount: Int { Int(sqlite3_bind_parameter_count(statement)) }
    /// The name of parameter `i` (1-based) as written in the SQL, e.g. "$2"; nil for a bare "?".
    package func parameterName(_ i: Int) -> String? { sqlite3_bind_parameter_name(statement, Int32(i)).map { String(cString: $0) } }
    package func columnName(_ i: Int) -> String { String(cString: sqlite3_column_name(statement, Int32(i))) }
    package func declaredType(_ i: Int) -> String? { sqlite3_column_decltype(statement, Int32(i)).map { String(cString: $0) } }
    package func storageClass(_ i: Int) -> Int32 { sqlite3_column_type(statement, Int32(i)) }
    package func int(_ i: Int) -> Int64 { sqlite3_column_int64(statement, Int32(i)) }
    package func double(_ i: Int) -> Double { sqlite3_column_double(statement, Int32(i)) }

    package func text(_ i: Int) -> String {
        guard let p = sqlite3_column_text(statement, Int32(i)) else { return "" }
        return String(cString: p)
    }

    /// The raw bytes of a text or blob value.
    package func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let count = Int(sqlite3_column_bytes(statement, Int32(i)))
        if storageClass(i) == SQLITE_BLOB {
            return UnsafeBufferPointer(start: sqlite3_column_blob(statement, Int32(i))?.assumingMemoryBound(to: UInt8.self), count: count)
        }
        return UnsafeBufferPointer(start: sqlite3_column_text(statement, Int32(i)), count: count)
    }

    package func bindNull(_ i: Int) { sqlite3_bind_null(statement, Int32(i)) }
    package func bind(_ i: Int, _ v: Int64) { sqlite3_bind_int64(statement, Int32(i), v) }
    package func bind(_ i: Int, _ v: Double) { sqlite3_bind_double(statement, Int32(i), v) }

    package func bindText(_ i: Int, _ bytes: UnsafeBufferPointer<UInt8>) {
        if let base = bytes.baseAddress {
            sqlite3_bind_text(statement, Int32(i), UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), Self.transient)
        } else {
            sqlite3_bind_text(statement, Int32(i), "", 0, Self.transient)
        }
    }

    package func bindBlob(_ i: Int, _ bytes: UnsafeBufferPointer<UInt8>) {
        sqlite3_bind_blob(statement, Int32(i), bytes.baseAddress, Int32(bytes.count), Self.transient)
    }

    package func bindText(_ i: Int, _ text: String) {
        var text = text
        text.withUTF8 { bindText(i, $0) }
    }
}
