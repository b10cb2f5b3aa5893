import NodeKit

/// The `sqlite` connection type: a database file.
public enum SQLiteConnection {
    static let path = Field<String>("path", summary: "Database file, relative to the connections file; created by writes if missing.", example: "./data/local.db")

    public static let spec = ConnectionSpec(type: "sqlite", summary: "A SQLite database file.", fields: [path.spec], secretFields: [])

    /// The database path a connection names.
    static func path(of connection: Connection) throws(ConfigError) -> String {
        let fields = connection.fields
        var path = try fields[Self.path]
        if !path.hasPrefix("/"), path != ":memory:", let file = connection.location?.file {
            let base = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            if !base.isEmpty { path = base + "/" + path }
        }
        return path
    }
}
