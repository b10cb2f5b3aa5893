public import NodeKit
import SQLiteAccess

/// The `sqlite` connector: a database file; it lists its tables and answers watermark queries.
public enum SQLiteConnector: SchemaDiscovering, WatermarkProbing {
    static let path = Field<String>("path", summary: "Database file, relative to the connections file (on the server: inside the workspace); created by writes if missing.", example: "./data/local.db")

    public static let spec = ConnectionSpec(type: "sqlite", summary: "A SQLite database file.", fields: [path.spec], secretFields: [])

    /// Opens the database of a connection for a pipeline: its SQL can attach no other file.
    static func open(_ path: String, readOnly: Bool) throws(SQLiteError) -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: path, readOnly: readOnly)
        database.forbidAttaching()
        return database
    }

    /// The database path a connection names, resolved and (on the server) confined to the workspace, so
    /// that neither files outside it nor the server's own store can be opened (`path_outside_workspace`).
    static func path(of connection: Connection) throws(ConfigError) -> String {
        let path = try connection.fields[Self.path]
        if path == ":memory:" { return path }
        do { return try connection.files.resolve(path) } catch { throw error.at(node: "connection '\(connection.name)'", field: Self.path.name) }
    }
}
