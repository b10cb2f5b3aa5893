public import Columnar
import Foundation

/// Full or incremental reads.
public enum ReadMode: String, Choice { case full, incremental }

/// What an incremental read does with rows whose cursor is NULL (they can never be "after" a cursor).
public enum NullCursorPolicy: String, Choice {
    /// Read them on every run (pair with a merge sink so they are not duplicated).
    case always
    /// Send them to the reject store on every run, so they are visible and counted.
    case reject
}

/// The state of an incremental read, as stored in `sluice_state`: the last (cursor, key…) read, as text.
public struct CursorState: Codable, Equatable, Sendable {
    public var cursor: String
    public var key: [String]

    public init(cursor: String, key: [String]) {
        self.cursor = cursor
        self.key = key
    }

    public var json: String { String(decoding: try! JSONEncoder().encode(self), as: UTF8.self) }

    public static func parse(_ text: String) -> CursorState? { try? JSONDecoder().decode(CursorState.self, from: Data(text.utf8)) }

    /// The earliest of several committed states (several state stores downstream), so no store misses rows.
    /// Cursors compare as numbers, instants or text according to the cursor column's type; keys break ties.
    public static func earliest(_ states: [CursorState], cursorType type: DataType) -> CursorState? {
        states.min { a, b in a.cursor == b.cursor ? a.key.lexicographicallyPrecedes(b.key) : precedes(a.cursor, b.cursor, type) }
    }

    public static func precedes(_ a: String, _ b: String, _ type: DataType) -> Bool {
        switch type {
        case .int64, .float64, .decimal, .bool:
            if let x = Double(a), let y = Double(b) { return x < y }
        case .timestamp, .date:
            if let x = CivilTime.parseTimestamp(a), let y = CivilTime.parseTimestamp(b) { return x < y }
        default: break
        }
        return a < b
    }
}

