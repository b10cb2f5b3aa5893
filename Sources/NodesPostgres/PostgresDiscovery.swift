import Foundation
public import NodeKit
import PostgresNIO

/// Tables, views and materialized views of a PostgreSQL database (system schemas left out).
extension PostgresConnector {
    public static func discover(_ connection: Connection, schema: String?) async throws -> [TableDescription] {
        let endpoint = try PostgresEndpoint(connection)
        let session = try await endpoint.connect()
        do {
            let tables = try await describe(session, schema: schema)
            try? await session.close()
            return tables
        } catch {
            try? await session.close()
            throw error
        }
    }

    public static func firstRow(_ connection: Connection, sql: String) async throws -> [String?]? {
        let session = try await PostgresEndpoint(connection).connect()
        do {
            var first: [String?]?
            let rows = try await session.query(PostgresQuery(unsafeSQL: sql), logger: PostgresEndpoint.logger)
            for try await row in rows where first == nil {
                first = row.map { cell -> String? in
                    guard cell.bytes != nil else { return nil }
                    if let text = try? cell.decode(String.self) { return text }
                    if let number = try? cell.decode(Int64.self) { return String(number) }
                    if let number = try? cell.decode(Double.self) { return String(number) }
                    if let flag = try? cell.decode(Bool.self) { return String(flag) }
                    return (try? cell.decode(Date.self)).map { ISO8601DateFormatter().string(from: $0) }
                }
            }
            try? await session.close()
            return first
        } catch {
            try? await session.close()
            throw error
        }
    }

    private static func describe(_ session: PostgresConnection, schema: String?) async throws -> [TableDescription] {
        var binds = PostgresBindings()
        binds.append(schema)
        let sql = """
            SELECT n.nspname::text, c.relname::text, a.attname::text, a.atttypid::int8, a.atttypmod::int8, format_type(a.atttypid, a.atttypmod),
                   NOT a.attnotnull, CASE WHEN a.attnum = ANY (i.indkey::int2[]) THEN array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1 ELSE 0 END::int8
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' AND ($1::text IS NULL OR n.nspname = $1)
            ORDER BY 1, 2, a.attnum
            """
        var tables: [TableDescription] = []
        var current: (schema: String, name: String, columns: [TableDescription.Column], key: [(Int64, String)])?
        func close() {
            if let t = current { tables.append(TableDescription(schema: t.schema, name: t.name, columns: t.columns, primaryKey: t.key.sorted { $0.0 < $1.0 }.map(\.1))) }
        }
        let rows = try await session.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: PostgresEndpoint.logger)
        for try await (nsp, rel, column, oid, typmod, formatted, nullable, keyPosition) in rows.decode((String, String, String, Int64, Int64, String, Bool, Int64).self) {
            if current?.schema != nsp || current?.name != rel {
                close()
                current = (nsp, rel, [], [])
            }
            let described = PostgresColumn(name: column, oid: UInt32(oid), typmod: Int32(typmod), formatted: formatted, notNull: !nullable)
            current?.columns.append(.init(name: column, databaseType: formatted, type: PostgresTypes.dataType(described), nullable: nullable))
            if keyPosition > 0 { current?.key.append((keyPosition, column)) }
        }
        close()
        return tables
    }
}
