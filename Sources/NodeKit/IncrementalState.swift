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
}

