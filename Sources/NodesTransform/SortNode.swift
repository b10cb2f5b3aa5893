import Columnar
#if canImport(Glibc)
import Glibc
#endif
public import NodeKit

/// Sorts rows by one or more columns (`amount DESC`, `id`, `name ASC NULLS FIRST`), stably. Past `memoryLimit` it
/// writes sorted runs to disk and merges them (an external merge sort), so any size finishes in bounded memory.
public struct SortNode: NodeType {
    static let by = Field<[SortKey]>("by", summary: "Sort keys in order: a column, then ASC (default) or DESC, then NULLS FIRST or NULLS LAST (default: NULLs last ascending, first descending, as in PostgreSQL).",
                                     example: "[\"amount DESC\", id]")
    static let memoryLimit = Field<ByteCount>("memoryLimit", summary: "Memory for rows being sorted; past it sorted runs go to disk ($TMPDIR) and are merged.",
                                              default: ByteCount(256 << 20))

    public static let spec = NodeSpec(
        id: "sort", version: 1, category: .transform, title: "Sort",
        summary: "Sorts rows by columns, ascending or descending, with NULLs first or last; stable; spills to disk past its memory limit.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [by.spec, memoryLimit.spec], icon: "arrow-down-wide-narrow")

    let settings: Settings
    let keys: [SortKey]
    let memoryLimit: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        keys = try settings[Self.by]
        guard !keys.isEmpty else { throw settings.error(Self.by, "name at least one column to sort by", code: "missing_field") }
        memoryLimit = try settings[Self.memoryLimit].bytes
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        var columns: [Int] = []
        for key in keys {
            let index = try settings.column(key.column, in: input, for: Self.by)
            guard input.fields[index].type != .json else { throw settings.error(Self.by, "json values have no order ('\(key.column)')", code: "type_mismatch") }
            columns.append(index)
        }
        let order = RowOrder(keys: zip(columns, keys).map { RowOrder.Key(column: $0, descending: $1.descending, nullsFirst: $1.nullsFirst) })
        return NodePlan(outputs: ["out": input], work: ExternalSort(order: order, schema: input, memoryLimit: memoryLimit, node: request.node))
    }
}

extension Value {
    /// The stored integer of an integer-backed value (int, date, timestamp, decimal units) in 128 bits; 0 otherwise.
    var exactStorage: Int128 {
        switch self {
        case let .int(v), let .date(v), let .timestamp(v): Int128(truncatingIfNeeded: v)
        case let .decimal(v, _): v
        default: 0
        }
    }
}

/// One sort key as written: `amount DESC NULLS LAST`.
struct SortKey: SettingDecodable, Hashable {
    let column: String
    let descending: Bool
    let nullsFirst: Bool

    static var fieldKind: FieldKind { .string }

    init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText, let parsed = Self.parse(text) else {
            throw ConfigError(code: "invalid_value", message: "'\(setting.scalarText ?? setting.kindName)' is not a sort key", location: setting.location, field: field,
                              expected: "column [ASC|DESC] [NULLS FIRST|NULLS LAST]")
        }
        self = parsed
    }

    init(column: String, descending: Bool, nullsFirst: Bool) {
        self.column = column
        self.descending = descending
        self.nullsFirst = nullsFirst
    }

    static func parse(_ text: String) -> SortKey? {
        var words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let column = words.first else { return nil }
        words.removeFirst()
        var descending = false
        if let direction = words.first?.uppercased(), direction == "ASC" || direction == "DESC" {
            descending = direction == "DESC"
            words.removeFirst()
        }
        var nullsFirst = descending
        if words.count == 2, words[0].uppercased() == "NULLS", ["FIRST", "LAST"].contains(words[1].uppercased()) {
            nullsFirst = words[1].uppercased() == "FIRST"
            words.removeAll()
        }
        return words.isEmpty ? SortKey(column: column, descending: descending, nullsFirst: nullsFirst) : nil
    }

    static func describe(_ value: SortKey) -> String { value.column + (value.descending ? " DESC" : "") }
}

/// How rows compare under sort keys: NULLs first or last per key, NaN above every number (as PostgreSQL), text
/// by its UTF-8 bytes (code point order, like a C collation).
struct RowOrder: Sendable {
    struct Key: Sendable {
        let column: Int
        let descending: Bool
        let nullsFirst: Bool
    }

    let keys: [Key]

    /// Negative when row `i` of `a` sorts before row `j` of `b`, zero when the keys tie, positive after.
    @inline(__always)
    func compare(_ a: RecordBatch, _ i: Int, _ b: RecordBatch, _ j: Int) -> Int {
        for key in keys {
            let x = a.columns[key.column], y = b.columns[key.column]
            let xNull = x.isNull(i), yNull = y.isNull(j)
            if xNull || yNull {
                if xNull && yNull { continue }
                return xNull == key.nullsFirst ? -1 : 1
            }
            var result: Int
            switch (x.buffer, y.buffer) {
            case let (.int64(p), .int64(q)): result = p[i] < q[j] ? -1 : (p[i] > q[j] ? 1 : 0)
            case let (.int128(p), .int128(q)): result = p[i] < q[j] ? -1 : (p[i] > q[j] ? 1 : 0)
            case let (.float64(p), .float64(q)):
                let u = p[i], v = q[j]
                if u.isNaN || v.isNaN { result = u.isNaN && v.isNaN ? 0 : (u.isNaN ? 1 : -1) } else { result = u < v ? -1 : (u > v ? 1 : 0) }
            case let (.bool(p), .bool(q)): result = p[i] == q[j] ? 0 : (p[i] ? 1 : -1)
            case let (.bytes(p), .bytes(q)): result = Self.compareBytes(p, i, q, j)
            default: result = 0
            }
            if result != 0 { return key.descending ? -result : result }
        }
        return 0
    }

    /// The same order over key values taken out of rows (one value per key, in key order).
    func compare(_ a: [Value], _ b: [Value]) -> Int {
        for (k, key) in keys.enumerated() {
            let x = a[k], y = b[k]
            if x.isNull || y.isNull {
                if x.isNull && y.isNull { continue }
                return x.isNull == key.nullsFirst ? -1 : 1
            }
            var result: Int
            switch (x, y) {
            case let (.float(u), .float(v)):
                if u.isNaN || v.isNaN { result = u.isNaN && v.isNaN ? 0 : (u.isNaN ? 1 : -1) } else { result = u < v ? -1 : (u > v ? 1 : 0) }
            case let (.string(u), .string(v)):
                let (p, q) = (Array(u.utf8), Array(v.utf8))
                result = p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1)
            case let (.bool(u), .bool(v)): result = u == v ? 0 : (u ? 1 : -1)
            default:
                let (u, v) = (x.exactStorage, y.exactStorage)
                result = u < v ? -1 : (u > v ? 1 : 0)
            }
            if result != 0 { return key.descending ? -result : result }
        }
        return 0
    }

    @inline(__always)
    static func compareBytes(_ p: VariableWidthBuffer, _ i: Int, _ q: VariableWidthBuffer, _ j: Int) -> Int {
        let r = p.range(i), s = q.range(j)
        return p.data.withUnsafeBufferPointer { pd in
            q.data.withUnsafeBufferPointer { qd in
                let n = min(r.count, s.count)
                let c = n == 0 ? 0 : memcmp(pd.baseAddress! + r.lowerBound, qd.baseAddress! + s.lowerBound, n)
                if c != 0 { return c < 0 ? -1 : 1 }
                return r.count == s.count ? 0 : (r.count < s.count ? -1 : 1)
            }
        }
    }
}
