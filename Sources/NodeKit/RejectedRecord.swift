public import Columnar
public import Expressions

/// A record a node could not process, with why and where; kept in the reject store and replayable.
public struct RejectedRecord: Sendable {
    /// The record as it arrived: the raw text of an input line, or the row's values by column.
    public enum Payload: Sendable {
        case text(String)
        case row([(name: String, value: Value)])

        /// Row `r` of `batch`, its values by column.
        public static func row(of batch: RecordBatch, _ r: Int) -> Payload {
            .row(zip(batch.schema.names, batch.row(r)).map { (name: $0, value: $1) })
        }
    }

    public var code: String
    public var message: String
    public var field: String?
    /// The input file the record came from, when known.
    public var source: String?
    /// 1-based line in `source`, when known.
    public var line: Int?
    /// 0-based index of the row in the node's input stream, when known.
    public var row: Int?
    /// Where a later node's row came from (`RowOrigin.describe`: "orders: orders.csv line 12"), when known.
    public var origin: String?
    public var payload: Payload

    public init(code: String, message: String, field: String? = nil, source: String? = nil, line: Int? = nil, row: Int? = nil, origin: String? = nil,
                payload: Payload) {
        self.code = code
        self.message = message
        self.field = field
        self.source = source
        self.line = line
        self.row = row
        self.origin = origin
        self.payload = payload
    }

    /// A reject for row `r` of `batch`: its values, and where the row came from when the batch knows.
    public init(code: String, message: String, field: String? = nil, row: Int? = nil, of batch: RecordBatch, _ r: Int) {
        self.init(code: code, message: message, field: field, row: row, origin: batch.origin?.describe(r), payload: .row(of: batch, r))
    }

    /// Rejects for the rows of `batch` whose expression evaluation failed.
    /// `firstRow` is the stream index of the batch's first row.
    public static func rows(of batch: RecordBatch, errors: [Int: ExpressionError], field: String, firstRow: Int) -> [RejectedRecord] {
        errors.keys.sorted().map { row in
            let error = errors[row]!
            return RejectedRecord(code: error.code, message: "\(error.message) in \(field) = \(error.source)", field: field, row: firstRow + row, of: batch, row)
        }
    }
}

/// A node-level failure (not a bad record): a missing file, a lost connection, a timeout.
///
/// `isRetryable` tells the runtime whether trying again may help. The description never includes secrets.
public struct NodeError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var isRetryable: Bool
    public var cause: String?

    public init(code: String, message: String, isRetryable: Bool = false, cause: String? = nil) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
        self.cause = cause
    }

    public var description: String { cause.map { "\(message): \($0)" } ?? message }
}
