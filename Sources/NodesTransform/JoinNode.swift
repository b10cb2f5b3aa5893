import Columnar
public import NodeKit

/// Joins two inputs on equal keys (a hash join): inner, left, right, full, semi and anti. The side that ends first
/// is built into a hash table (or the one `build` names) and the other streams past it; past `memoryLimit` both
/// sides are partitioned to disk and joined partition by partition (a grace hash join), so any size finishes.
/// NULL keys never match, as in SQL.
public struct JoinNode: NodeType {
    enum JoinType: String, Choice { case inner, left, right, full, semi, anti }
    enum BuildSide: String, Choice { case auto, left, right }

    static let type = Field<JoinType>("type", summary: "inner, left, right, full (outer), semi (left rows with a match) or anti (left rows without one).", default: .inner)
    static let on = Field<[JoinKey]>("on", summary: "Key columns: a name both inputs have, or {left: customer_id, right: id}.", example: "[customer_id]")
    static let rightSuffix = Field<String>("rightSuffix", summary: "Added to right columns whose names the left input already has.", default: "_right")
    static let build = Field<BuildSide>("build", summary: "Which input to hold in memory: auto (the one that ends first, normally the smaller), left or right.", default: .auto)
    static let memoryLimit = Field<ByteCount>("memoryLimit", summary: "Memory for the hash table; past it both inputs are partitioned to disk ($TMPDIR) and joined a part at a time.",
                                              default: ByteCount(256 << 20))

    public static let spec = NodeSpec(
        id: "join", version: 1, category: .transform, title: "Join",
        summary: "Joins two inputs on equal keys: inner, left, right, full, semi or anti; spills to disk past its memory limit.",
        inputs: [.data("left", "The left input (all its rows are kept by left and full joins)."), .data("right", "The right input.")],
        outputs: [.data("out")], fields: [type.spec, on.spec, rightSuffix.spec, build.spec, memoryLimit.spec], icon: "merge")

    let settings: Settings
    let joinType: JoinType
    let keys: [JoinKey]
    let suffix: String
    let buildSide: BuildSide
    let memoryLimit: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        joinType = try settings[Self.type]
        keys = try settings[Self.on]
        guard !keys.isEmpty else { throw settings.error(Self.on, "name at least one key column", code: "missing_field") }
        suffix = try settings[Self.rightSuffix]
        buildSide = try settings[Self.build]
        memoryLimit = try settings[Self.memoryLimit].bytes
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let left = try request.input("left"), right = try request.input("right")
        var leftKeys: [Int] = [], rightKeys: [Int] = []
        for key in keys {
            guard let l = left.index(of: key.left) else {
                throw settings.error(Self.on, "the left input has no column '\(key.left)'; its columns are: \(left.names.joined(separator: ", "))", code: "unknown_column")
            }
            guard let r = right.index(of: key.right) else {
                throw settings.error(Self.on, "the right input has no column '\(key.right)'; its columns are: \(right.names.joined(separator: ", "))", code: "unknown_column")
            }
            let lt = left.fields[l].type, rt = right.fields[r].type
            guard lt == rt else {
                throw settings.error(Self.on, "'\(key.left)' is \(lt) on the left but '\(key.right)' is \(rt) on the right; cast one of them with compute so both have one type",
                                     code: "type_mismatch")
            }
            leftKeys.append(l)
            rightKeys.append(r)
        }
        let layout = try JoinLayout(left: left, right: right, leftKeys: leftKeys, rightKeys: rightKeys, keys: keys, type: joinType, suffix: suffix, settings: settings)
        return NodePlan(outputs: ["out": layout.schema],
                        work: HashJoin(type: joinType, layout: layout, build: buildSide, memoryLimit: memoryLimit, node: request.node))
    }

    /// The keys and the columns downstream reads (a renamed right column by its input name too), so sources read
    /// only those. Names one input lacks are ignored by it.
    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? {
        guard let demand else { return nil }
        var needed = demand
        for name in demand where name.hasSuffix(suffix) { needed.insert(String(name.dropLast(suffix.count))) }
        for key in keys { needed.insert(key.left); needed.insert(key.right) }
        return needed
    }
}

/// One pair of key columns: the left input's and the right input's.
struct JoinKey: SettingDecodable, Hashable {
    let left: String
    let right: String

    static var fieldKind: FieldKind { .string }

    init(setting: Setting, field: String) throws(ConfigError) {
        if let name = setting.scalarText, case .string = setting.kind {
            left = name
            right = name
            return
        }
        guard let entries = setting.entries, Set(entries.map(\.key)) == ["left", "right"],
              let l = setting["left"]?.scalarText, let r = setting["right"]?.scalarText else {
            throw ConfigError(code: "invalid_value", message: "a key is a column name or {left: column, right: column}", location: setting.location, field: field,
                              expected: "customer_id or {left: customer_id, right: id}")
        }
        left = l
        right = r
    }

    static func describe(_ value: JoinKey) -> String { value.left == value.right ? value.left : "{left: \(value.left), right: \(value.right)}" }

    var isSameName: Bool { left == right }
}

/// Where each output column comes from: left columns in order (a key named alike on both sides shows once, its value
/// taken from the right row when the left row is missing), then the right columns (renamed with the suffix on a clash).
struct JoinLayout: Sendable {
    enum Source: Sendable { case left(Int), right(Int), coalesced(left: Int, right: Int) }

    let schema: Schema
    let sources: [Source]
    let leftKeys: [Int]
    let rightKeys: [Int]
    let left: Schema
    let right: Schema

    init(left: Schema, right: Schema, leftKeys: [Int], rightKeys: [Int], keys: [JoinKey], type: JoinNode.JoinType, suffix: String, settings: Settings) throws(ConfigError) {
        self.left = left
        self.right = right
        self.leftKeys = leftKeys
        self.rightKeys = rightKeys
        let rightNullable = type == .left || type == .full, leftNullable = type == .right || type == .full
        var fields: [SchemaField] = []
        var sources: [Source] = []
        let mergedRight = Dictionary(zip(keys, zip(leftKeys, rightKeys)).filter { $0.0.isSameName }.map { ($0.1.1, $0.1.0) }, uniquingKeysWith: { first, _ in first })
        let mergedLeft = Set(mergedRight.values)
        for (i, field) in left.fields.enumerated() {
            var output = field
            if mergedLeft.contains(i), let r = mergedRight.first(where: { $0.value == i })?.key {
                sources.append(type == .right || type == .full ? .coalesced(left: i, right: r) : .left(i))
                output.isNullable = field.isNullable && (type != .full || right.fields[r].isNullable)
            } else {
                sources.append(.left(i))
                if leftNullable { output.isNullable = true }
            }
            fields.append(output)
        }
        if type != .semi && type != .anti {
            var names = Set(fields.map(\.name))
            for (i, field) in right.fields.enumerated() where mergedRight[i] == nil {
                var output = field
                if names.contains(output.name) { output.name += suffix }
                guard !names.contains(output.name) else {
                    throw settings.error(JoinNode.rightSuffix, "the right column '\(field.name)' becomes '\(output.name)', which the output already has; choose another rightSuffix",
                                         code: "duplicate_column")
                }
                if rightNullable { output.isNullable = true }
                names.insert(output.name)
                fields.append(output)
                sources.append(.right(i))
            }
        }
        schema = Schema(fields)
        self.sources = sources
    }
}
