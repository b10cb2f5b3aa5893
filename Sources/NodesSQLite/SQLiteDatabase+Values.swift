import Columnar
import NodeKit
import SQLiteAccess

extension SQLiteDatabase {
    /// Columns of a table as SQLite reports them: name, declared type, not-null, primary-key position.
    func tableColumns(_ table: QualifiedName) throws(SQLiteError) -> [(name: String, declared: String, notNull: Bool, primaryKey: Int)] {
        let schema = table.schema.map { SQLText.quote($0) + "." } ?? ""
        let statement = try prepare("PRAGMA \(schema)table_info(\(SQLText.quote(table.name)))")
        var columns: [(String, String, Bool, Int)] = []
        while try statement.step() {
            columns.append((statement.text(1), statement.text(2), statement.int(3) != 0, Int(statement.int(5))))
        }
        return columns
    }
}

extension SQLiteStatement {
    /// Binds a scalar with the storage the type mapping uses (dates and timestamps as ISO text).
    func bind(_ i: Int, _ value: Value) {
        switch value {
        case .null: bindNull(i)
        case let .bool(b): bind(i, Int64(b ? 1 : 0))
        case let .int(v): bind(i, v)
        case let .float(d): bind(i, d)
        case let .decimal(v, scale): bind(i, Double(v) / pow10(scale))
        case let .string(s), let .json(s): bindText(i, s)
        case let .bytes(b): b.withUnsafeBufferPointer { bindBlob(i, $0) }
        case .date, .timestamp: bindText(i, value.description)
        }
    }
}
