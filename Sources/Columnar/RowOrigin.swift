/// Where each row of a batch came from: the source node, its file (when it reads files), and each row's line in
/// that file or its row number in the source's output. Carried beside the columns so that a rejected record or a
/// sampled row far downstream can be traced back to its input.
///
/// Operations that keep rows (filtering, slicing, choosing columns, adding columns) keep it; operations that
/// combine or reorder rows (joins, sorts, grouping) produce batches without it.
public struct RowOrigin: Sendable {
    /// How `positions` count.
    public enum Unit: String, Sendable {
        /// Line numbers in `file`, from 1.
        case line
        /// Row numbers in the source's output, from 1.
        case row
    }

    /// The source node (set by the runtime when the source puts the batch out).
    public var node: String?
    public var file: String?
    public var unit: Unit
    /// One per row of the batch.
    public var positions: [Int64]

    public init(node: String? = nil, file: String? = nil, unit: Unit, positions: [Int64]) {
        self.node = node
        self.file = file
        self.unit = unit
        self.positions = positions
    }

    /// "orders: orders.csv line 12", "accounts row 7".
    public func describe(_ row: Int) -> String? {
        guard positions.indices.contains(row) else { return nil }
        let file = self.file.map { " " + ($0.split(separator: "/").last.map(String.init) ?? $0) } ?? ""
        let place = node.map { $0 + (file.isEmpty ? "" : ":") } ?? ""
        return "\(place)\(file) \(unit.rawValue) \(positions[row])".trimmingCharacters(in: .whitespaces)
    }

    func filtered(_ keep: [Bool]) -> RowOrigin {
        var copy = self
        copy.positions = zip(positions, keep).compactMap { $1 ? $0 : nil }
        return copy
    }

    func sliced(_ range: Range<Int>) -> RowOrigin {
        var copy = self
        copy.positions = Array(positions[range])
        return copy
    }
}
