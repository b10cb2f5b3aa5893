import Columnar
public import Expressions
public import NodeKit

/// A source whose rows are written in its settings: small reference tables, examples, and the inputs that
/// pipeline tests put in place of real sources. Column types come from `schema`, or from the values (integers,
/// numbers, booleans, text; integers mixed with numbers are numbers; anything else mixed is text).
public struct RowsNode: NodeType {
    static let rows = Field<InlineRows>("rows", summary: "The rows, each a mapping from column to value; a column a row leaves out is NULL there.",
                                        example: "[{id: 1, status: paid}, {id: 2, status: open}]")
    static let schema = Field<SchemaDeclaration?>("schema", summary: "Column types (all or some columns, in this order first); the rest are inferred.",
                                                  example: "{id: int64, day: date}")

    /// The most rows a node's settings may hold (larger data belongs in a file).
    static let maxRows = 100_000

    public static let spec = NodeSpec(
        id: "rows", version: 1, category: .source, title: "Rows",
        summary: "Rows written in the settings: a small table, an example, or a test's input.",
        inputs: [], outputs: [.data("out")], fields: [rows.spec, schema.spec], icon: "rows-3")

    let batch: RecordBatch

    public init(settings: Settings) throws(ConfigError) {
        let rows = try settings[Self.rows].rows
        guard rows.count <= Self.maxRows else { throw settings.error(Self.rows, "more than \(Self.maxRows) rows; put them in a file") }
        let declared = try settings[Self.schema]?.schema ?? Schema([])
        // Columns in order: the declared ones, then the others as rows first name them.
        var names = declared.names
        for row in rows { for (name, _, _) in row where !names.contains(name) { names.append(name) } }
        var fields: [SchemaField] = []
        for name in names {
            if let field = declared.fields.first(where: { $0.name == name }) { fields.append(field); continue }
            fields.append(SchemaField(name, Self.inferredType(rows.compactMap { row in row.first { $0.name == name }?.value })))
        }
        let schema = Schema(fields)
        var builders = fields.map { ColumnBuilder(type: $0.type, capacity: rows.count) }
        for (r, row) in rows.enumerated() {
            for (c, field) in fields.enumerated() {
                guard let cell = row.first(where: { $0.name == field.name }), !cell.value.isNull else { builders[c].appendNull(); continue }
                switch ValueCast.cast(cell.value, to: field.type) {
                case let .success(value): builders[c].append(value)
                case let .failure(failure):
                    throw ConfigError(code: failure.code, message: "\(field.name): \(failure.message)", location: cell.location, node: settings.node,
                                      field: "rows[\(r)].\(field.name)")
                }
            }
        }
        var batch = RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() }, count: rows.count)
        batch.origin = RowOrigin(unit: .row, positions: (0..<Int64(rows.count)).map { $0 + 1 })
        self.batch = batch
    }

    /// The narrowest type holding every value: bool, int64, float64 (integers and numbers), else string.
    static func inferredType(_ values: [Value]) -> DataType {
        var kinds = Set<String>()
        for value in values {
            switch value {
            case .null: continue
            case .bool: kinds.insert("bool")
            case .int: kinds.insert("int")
            case .float: kinds.insert("float")
            default: kinds.insert("text")
            }
        }
        if kinds == ["bool"] { return .bool }
        if kinds == ["int"] { return .int64 }
        if kinds.isSubset(of: ["int", "float"]), !kinds.isEmpty { return .float64 }
        return .string
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: ["out": batch.schema], work: Work(batch: batch))
    }

    struct Work: NodeWork {
        let batch: RecordBatch

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var start = 0
            while start < batch.count {
                let end = min(batch.count, start + 65_536)
                try await context.emit(start == 0 && end == batch.count ? batch : batch.slice(start..<end), on: "out")
                start = end
            }
            return nil
        }
    }
}

/// Rows written as settings: a list of mappings from column names to scalars.
public struct InlineRows: SettingDecodable {
    public let rows: [[(name: String, value: Value, location: SourceLocation?)]]

    public static var fieldKind: FieldKind { .list(.map(.string)) }

    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let items = setting.list else { throw Self.mismatch(setting, field) }
        var rows: [[(name: String, value: Value, location: SourceLocation?)]] = []
        for (i, item) in items.enumerated() {
            guard let entries = item.entries else {
                throw ConfigError(code: "invalid_value", message: "row \(i + 1) is \(item.kindName), not a mapping from columns to values",
                                  location: item.location, field: "\(field)[\(i)]", expected: "{column: value, …}")
            }
            var row: [(name: String, value: Value, location: SourceLocation?)] = []
            for entry in entries {
                let value: Value
                switch entry.value.kind {
                case .null: value = .null
                case let .bool(b): value = .bool(b)
                case let .int(n): value = .int(n)
                case let .double(d): value = .float(d)
                case let .string(s): value = .string(s)
                case .list, .map:
                    throw ConfigError(code: "invalid_value", message: "'\(entry.key)' holds \(entry.value.kindName); a row's values are scalars",
                                      location: entry.value.location, field: "\(field)[\(i)].\(entry.key)")
                }
                row.append((entry.key, value, entry.value.location))
            }
            rows.append(row)
        }
        self.rows = rows
    }

    public static func describe(_ value: Self) -> String { "[\(value.rows.count) rows]" }
}
