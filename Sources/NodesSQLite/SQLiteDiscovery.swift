import CSQLite
public import NodeKit
import SQLiteAccess

/// Tables and views of a SQLite database, and the first row of a watermark query.
extension SQLiteConnector {
    public static func discover(_ connection: Connection, schema: String?) async throws -> [TableDescription] {
        let db = try SQLiteConnector.open(try SQLiteConnector.path(of: connection), readOnly: true)
        let statement = try db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0)) }
        return try names.map { name in
            let columns = try db.tableColumns(QualifiedName(schema: nil, name: name))
            return TableDescription(
                schema: nil, name: name,
                columns: columns.map { .init(name: $0.name, databaseType: $0.declared, type: SQLiteTypes.dataType(declared: $0.declared), nullable: !$0.notNull) },
                primaryKey: columns.filter { $0.primaryKey > 0 }.sorted { $0.primaryKey < $1.primaryKey }.map(\.name))
        }
    }

    public static func firstRow(_ connection: Connection, sql: String) async throws -> [String?]? {
        let db = try SQLiteConnector.open(try SQLiteConnector.path(of: connection), readOnly: true)
        let statement = try db.prepare(sql)
        guard try statement.step() else { return nil }
        return (0..<statement.columnCount).map { statement.storageClass($0) == SQLITE_NULL ? nil : statement.text($0) }
    }
}
