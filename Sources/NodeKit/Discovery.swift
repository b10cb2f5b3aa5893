public import Columnar

/// A table (or view) as a connection describes it: columns with database and Sluice types, and the primary key.
public struct TableDescription: Sendable {
    public struct Column: Sendable {
        public let name: String
        public let databaseType: String
        public let type: DataType
        public let nullable: Bool

        public init(name: String, databaseType: String, type: DataType, nullable: Bool) {
            self.name = name
            self.databaseType = databaseType
            self.type = type
            self.nullable = nullable
        }
    }

    public let schema: String?
    public let name: String
    public let columns: [Column]
    public let primaryKey: [String]

    public init(schema: String?, name: String, columns: [Column], primaryKey: [String]) {
        self.schema = schema
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
    }
}

/// Lists the tables of a connection of one type (`sluice discover`, the editor's schema browser).
public protocol Discoverer: Sendable {
    static var connectionType: String { get }
    static func discover(_ connection: Connection, schema: String?) async throws -> [TableDescription]
}
