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

extension TableDescription {
    /// Tables as a JSON array: schema, name, primary_key, columns (name, database_type, type, nullable).
    public static func json(_ tables: [TableDescription]) -> String {
        "[" + tables.map { table in
            JSONText.object([
                ("schema", table.schema.map(Value.string) ?? .null), ("name", .string(table.name)),
                ("primary_key", .json("[" + table.primaryKey.map(JSONText.quoted).joined(separator: ",") + "]")),
                ("columns", .json("[" + table.columns.map { JSONText.object([("name", .string($0.name)), ("database_type", .string($0.databaseType)),
                                                                             ("type", .string($0.type.description)), ("nullable", .bool($0.nullable))]) }.joined(separator: ",") + "]")),
            ])
        }.joined(separator: ",\n") + "]"
    }
}
