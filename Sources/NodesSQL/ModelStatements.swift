import NodeKit

/// The statements that build a model and check a test, per database: tables are built under a temporary name
/// and swapped in one short transaction, so a concurrent reader sees the old table or the new one, never an
/// empty or half one; views are replaced in one transaction; incremental models delete the rows whose
/// `unique_key` comes again and insert the new rows, in one transaction.
struct ModelStatements: Sendable {
    let dialect: SQLDialect
    /// The schema models are built in (PostgreSQL); nil on SQLite.
    let schema: String?

    /// A name as SQL: plain when it is a simple lowercase identifier, quoted otherwise.
    static func name(_ text: String) -> String {
        let simple = text.first.map { $0 == "_" || ($0.isLetter && $0.isLowercase) } == true
            && text.allSatisfy { $0 == "_" || ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber }
        return simple ? text : SQLText.quote(text)
    }

    /// A relation in the models' schema.
    func relation(_ name: String) -> String {
        if let schema { return SQLText.quote(schema) + "." + SQLText.quote(name) }
        return SQLText.quote(name)
    }

    /// How a template's `ref` and `source` are written.
    func relation(_ reference: ModelRelation, sources: [String: [String: ModelProject.SourceTable]]) -> String {
        switch reference {
        case let .model(name): return relation(name)
        case let .source(source, table):
            let declared = sources[source]?[table]
            let identifier = SQLText.quote(declared?.identifier ?? table)
            guard dialect.hasSchemas, let schema = declared?.schema else { return identifier }
            return SQLText.quote(schema) + "." + identifier
        }
    }

    /// A temporary name beside `name` (kept within PostgreSQL's 63 bytes).
    static func temporary(_ name: String, _ suffix: String) -> String {
        String(decoding: name.utf8.prefix(40), as: UTF8.self) + "__sluice_" + suffix
    }

    /// What kind of relation `name` is now: "table", "view", another kind, or nil when there is none.
    func existingKind(_ name: String, on session: any SQLSession) async throws -> String? {
        switch dialect {
        case .postgres:
            let result = try await session.run("""
                SELECT c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = :schema AND c.relname = :name
                """, parameters: ["schema": .text(schema ?? "public"), "name": .text(name)])
            guard let kind = result.rows.first?.first ?? nil else { return nil }
            switch kind {
            case "r", "p": return "table"
            case "v": return "view"
            case "m": return "materialized view"
            case "f": return "foreign table"
            default: return kind
            }
        case .sqlite:
            let result = try await session.run("SELECT type FROM sqlite_master WHERE name = :name AND type IN ('table', 'view')", parameters: ["name": .text(name)])
            return result.rows.first?.first ?? nil
        }
    }

    /// Drops whatever `name` is (PostgreSQL: with what depends on it).
    func drop(_ name: String, kind: String) -> String {
        "DROP \(kind.uppercased()) IF EXISTS \(relation(name))" + (dialect == .postgres ? " CASCADE" : "")
    }

    /// The SQL of the columns a relation has, in order.
    func columns(of relationSQL: String, on session: any SQLSession) async throws -> [String] {
        try await session.run("SELECT * FROM \(relationSQL) LIMIT 0").columns
    }

    // MARK: Tests

    /// A query counting a test's failing rows.
    func testQuery(_ test: ModelProject.DataTest, model: String, render: (ModelTemplate) throws -> String,
                   relationOf: (ModelRelation) -> String) throws -> String {
        let table = relation(model)
        switch test.check {
        case let .notNull(column):
            return "SELECT count(*) FROM \(table) WHERE \(Self.name(column)) IS NULL"
        case let .unique(column):
            let c = Self.name(column)
            return "SELECT count(*) FROM (SELECT \(c) FROM \(table) WHERE \(c) IS NOT NULL GROUP BY \(c) HAVING count(*) > 1) AS duplicates"
        case let .acceptedValues(column, values, quote):
            let list = values.map { quote ? SQLText.literal($0) : $0 }.joined(separator: ", ")
            return "SELECT count(*) FROM \(table) WHERE \(Self.name(column)) IS NOT NULL AND \(Self.name(column)) NOT IN (\(list))"
        case let .relationships(column, to, field):
            return """
                SELECT count(*) FROM \(table) AS child WHERE child.\(Self.name(column)) IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM \(relationOf(to)) AS parent WHERE parent.\(Self.name(field)) = child.\(Self.name(column)))
                """
        case let .singular(template):
            return "SELECT count(*) FROM (\n\(Self.trimmed(try render(template)))\n) AS failures"
        }
    }

    /// A model's SQL without trailing semicolons and space (it is wrapped in CREATE … AS).
    static func trimmed(_ sql: String) -> String {
        var text = Substring(sql)
        while let last = text.last, last.isWhitespace || last == ";" { text = text.dropLast() }
        return String(text)
    }
}
