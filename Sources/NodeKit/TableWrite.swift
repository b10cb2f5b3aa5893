public import Columnar

/// How a database sink treats its target table.
public enum TableWriteMode: String, Choice {
    /// Insert rows; create the table if missing.
    case append
    /// Load into a new table, then swap it for the old one atomically.
    case replace
    /// Insert, or update the row with the same `key`.
    case merge
    /// Create the table; fail if it exists.
    case create
}

/// What a sink does when the input has columns the table lacks (or wider types).
public enum SchemaDriftPolicy: String, Choice {
    /// Add the new columns to the table (and widen types where the database allows).
    case evolve
    /// Fail, listing the differences.
    case freeze
    /// Drop input columns the table does not have.
    case discard
}

/// The differences between an input schema and an existing table, and what to do about them.
public struct SchemaDrift: Sendable, Equatable {
    /// Input columns the table does not have.
    public var added: [SchemaField]
    /// Table columns the input does not have (filled with NULL or defaults).
    public var missing: [String]

    public init(input: Schema, tableColumns: [String]) {
        let existing = Set(tableColumns)
        added = input.fields.filter { !existing.contains($0.name) }
        let inputNames = Set(input.names)
        missing = tableColumns.filter { !inputNames.contains($0) }
    }

    public var isEmpty: Bool { added.isEmpty }

    /// A readable diff for `freeze` errors.
    public var description: String {
        "the input has columns the table lacks: " + added.map { "+\($0.name) \($0.type)" }.joined(separator: ", ")
    }
}
