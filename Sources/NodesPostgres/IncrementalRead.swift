import Columnar
import Foundation
import NodeKit
import PostgresNIO

/// The incremental part of a read plan: which columns form the cursor tuple and how to filter.
struct IncrementalPlan: Sendable {
    let cursor: PostgresColumn
    let key: [PostgresColumn]
    let lookback: String?
    let nulls: NullCursorPolicy

    /// `WHERE … ORDER BY …` for a read after `state` (nil: the first run reads everything).
    func clause(after state: CursorState?) -> (sql: String, binds: [String]) {
        let c = SQLText.quote(cursor.name)
        let order = " ORDER BY \(c) NULLS FIRST" + key.map { ", " + SQLText.quote($0.name) }.joined()
        guard let state else { return (order, []) }
        var binds = [state.cursor]
        var condition: String
        if let lookback {
            binds.append(lookback)
            let isTemporal = [1082, 1114, 1184].contains(cursor.oid)
            condition = "\(c) >= $1::\(cursor.formatted) - $2::\(isTemporal ? "interval" : cursor.formatted)"
        } else {
            let columns = ([cursor] + key).map { SQLText.quote($0.name) }.joined(separator: ", ")
            let values = ([cursor] + key).enumerated().map { "$\($0.offset + 1)::\($0.element.formatted)" }.joined(separator: ", ")
            binds += state.key
            condition = key.isEmpty ? "\(c) > $1::\(cursor.formatted)" : "(\(columns)) > (\(values))"
        }
        return (" WHERE \(condition) OR \(c) IS NULL" + order, binds)
    }

}

/// Text forms of cursor values that PostgreSQL reads back exactly (ISO UTC timestamps with microseconds,
/// shortest round-trip doubles, exact decimals).
enum CursorText {
    static func text(_ value: Value) -> String {
        switch value {
        case let .timestamp(t): PostgresTypes.postgresText(timestamp: t)
        case let .date(d): PostgresTypes.postgresText(date: d)
        default: value.description
        }
    }

}
