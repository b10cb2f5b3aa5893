import Columnar
import Foundation
import NodeKit

/// The incremental part of a read plan: which columns form the cursor tuple and how to filter.
struct IncrementalPlan: Sendable {
    let cursor: PostgresColumn
    let key: [PostgresColumn]
    let lookback: String?
    let nulls: NullCursorPolicy

    /// `WHERE … ORDER BY …` for a read after `state` (nil: the first run reads everything), with the
    /// committed cursor and key as literals cast to their columns' types.
    func clause(after state: CursorState?) -> String {
        let c = SQLText.quote(cursor.name)
        let order = " ORDER BY \(c) NULLS FIRST" + key.map { ", " + SQLText.quote($0.name) }.joined()
        guard let state else { return order }
        let typed = { (text: String, column: PostgresColumn) in "\(SQLText.literal(text))::\(column.formatted)" }
        var condition: String
        if let lookback {
            let isTemporal = [1082, 1114, 1184].contains(cursor.oid)
            condition = "\(c) >= \(typed(state.cursor, cursor)) - \(SQLText.literal(lookback))::\(isTemporal ? "interval" : cursor.formatted)"
        } else if key.isEmpty {
            condition = "\(c) > \(typed(state.cursor, cursor))"
        } else {
            let columns = ([cursor] + key).map { SQLText.quote($0.name) }.joined(separator: ", ")
            let values = zip([state.cursor] + state.key, [cursor] + key).map { typed($0, $1) }.joined(separator: ", ")
            condition = "(\(columns)) > (\(values))"
        }
        return " WHERE \(condition) OR \(c) IS NULL" + order
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
