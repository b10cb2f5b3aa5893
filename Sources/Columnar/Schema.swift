/// A named, typed column of a schema.
public struct SchemaField: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var type: DataType
    public var isNullable: Bool

    public init(_ name: String, _ type: DataType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.isNullable = nullable
    }

    public var description: String { "\(name) \(type)" }
}

/// The ordered list of fields every batch on an edge carries; known before data moves.
public struct Schema: Sendable, Hashable, CustomStringConvertible {
    public let fields: [SchemaField]
    private let positions: [String: Int]

    public init(_ fields: [SchemaField]) {
        self.fields = fields
        var positions: [String: Int] = [:]
        for (i, field) in fields.enumerated() where positions[field.name] == nil {
            positions[field.name] = i
        }
        self.positions = positions
    }

    public static let empty = Schema([])

    public var count: Int { fields.count }
    public var names: [String] { fields.map(\.name) }

    /// The position of the column called `name`, if any (exact, case-sensitive match).
    public func index(of name: String) -> Int? { positions[name] }

    public func field(named name: String) -> SchemaField? { index(of: name).map { fields[$0] } }

    /// Column names that differ in case only: used to suggest "did you mean".
    public func caseInsensitiveMatch(_ name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.name
    }

    /// A schema with only the named fields, in this schema's order.
    public func projected(_ names: Set<String>) -> Schema {
        Schema(fields.filter { names.contains($0.name) })
    }

    public var description: String { "(" + fields.map(\.description).joined(separator: ", ") + ")" }

    public static func == (lhs: Schema, rhs: Schema) -> Bool { lhs.fields == rhs.fields }
    public func hash(into hasher: inout Hasher) { hasher.combine(fields) }
}
