import Columnar
import Expressions
import Foundation
public import NodeKit

/// Window functions: new columns computed over each row's partition in order, as SQL's `OVER (PARTITION BY …
/// ORDER BY …)`: row_number, rank, dense_rank, lag, lead, first_value, last_value, and running count, sum, avg,
/// min and max, optionally over `ROWS BETWEEN n PRECEDING AND CURRENT ROW`. Rows come out sorted by partition and
/// order (sorted with the sort node's external sort); one partition at a time is held in memory.
public struct WindowNode: NodeType {
    static let partitionBy = Field<[String]>("partitionBy", summary: "Columns that split rows into partitions (none: one partition).", default: [])
    static let orderBy = Field<[SortKey]>("orderBy", summary: "Order within a partition: sort keys as in sort.", default: [])
    static let columns = Field<NamedValues<String>>("columns", summary: "New column → window function: row_number(), rank(), dense_rank(), lag(x, n), lead(x, n), first_value(x), last_value(x), count(*), count(x), sum(x), avg(x), min(x), max(x); aggregates may end with ROWS BETWEEN n PRECEDING AND CURRENT ROW.",
                                                default: NamedValues(), example: "{rn: \"row_number()\", previous: \"lag(amount, 1)\", running: \"sum(amount)\"}")
    static let memoryLimit = Field<ByteCount>("memoryLimit", summary: "Memory for sorting the input; past it sorted runs go to disk ($TMPDIR).", default: ByteCount(256 << 20))
    static let time = Field<String?>("time", summary: "Time windows: the timestamp (or date) column that places rows in windows.", example: "created_at")
    static let tumbling = Field<Duration?>("tumbling", summary: "Time windows: back-to-back windows of this length (5m, 1h, 1d), aligned to the epoch (UTC).", example: "5m")
    static let sliding = Field<SlidingWindowSetting?>("sliding", summary: "Time windows: windows of `size` starting every `every` (size a multiple of every).", example: "{size: 10m, every: 1m}")
    static let aggregates = Field<NamedValues<String>>("aggregates", summary: "Time windows: output column → count(*), count(x), sum(x), avg(x), min(x) or max(x) over the window's rows.",
                                                       default: NamedValues(), example: "{orders: \"count(*)\", revenue: \"sum(amount)\"}")

    public static let spec = NodeSpec(
        id: "window", version: 1, category: .transform, title: "Window functions",
        summary: "Adds columns computed over each row's partition in order (row numbers, ranks, previous and next values, running totals), or aggregates rows per tumbling or sliding time window.",
        inputs: [.data("in")], outputs: [.data("out", "The input rows, sorted by partition and order, with the new columns; with time windows, one row per partition and window.")],
        fields: [partitionBy.spec, orderBy.spec, columns.spec, memoryLimit.spec, time.spec, tumbling.spec, sliding.spec, aggregates.spec],
        capabilities: [.rejects], icon: "panels-top-left")

    let settings: Settings
    let partitionColumns: [String]
    let order: [SortKey]
    let functions: [WindowFunction]
    let memoryLimit: Int
    /// Set for time windows: the time column, the windows and their aggregates.
    let timeWindows: (column: String, window: TimeWindow, aggregates: [WindowFunction])?

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        partitionColumns = try settings[Self.partitionBy]
        order = try settings[Self.orderBy]
        var functions: [WindowFunction] = []
        for entry in try settings[Self.columns].entries {
            functions.append(try WindowFunction(name: entry.name, text: entry.value, location: entry.location, node: settings.node))
        }
        self.functions = functions
        memoryLimit = try settings[Self.memoryLimit].bytes
        timeWindows = try Self.timeWindows(settings)
        if timeWindows == nil {
            guard !functions.isEmpty else { throw settings.error(Self.columns, "name at least one new column (or set time and tumbling or sliding for time windows)", code: "missing_field") }
        } else if !functions.isEmpty {
            throw settings.error(Self.columns, "time windows aggregate rows (aggregates:); row window functions (columns:) belong in another window node")
        }
    }

    /// The time-window settings, checked together: a time column, one window kind, at least one aggregate.
    private static func timeWindows(_ settings: Settings) throws(ConfigError) -> (column: String, window: TimeWindow, aggregates: [WindowFunction])? {
        let column = try settings[Self.time], tumbling = try settings[Self.tumbling], sliding = try settings[Self.sliding]
        let aggregateEntries = try settings[Self.aggregates].entries
        guard column != nil || tumbling != nil || sliding != nil || !aggregateEntries.isEmpty else { return nil }
        guard let column else { throw settings.error(Self.time, "time windows need the time column, e.g. time: created_at", code: "missing_field") }
        let window: TimeWindow
        switch (tumbling, sliding) {
        case let (size?, nil):
            window = TimeWindow(size: TimeWindow.micros(size), every: TimeWindow.micros(size))
        case let (nil, sliding?):
            window = TimeWindow(size: TimeWindow.micros(sliding.size), every: TimeWindow.micros(sliding.every))
            guard window.every > 0, window.size % window.every == 0 else {
                throw settings.error(Self.sliding, "the size of a sliding window must be a whole multiple of every (size 10m, every 1m)")
            }
            guard window.windowsPerRow <= 1_000 else { throw settings.error(Self.sliding, "a row would fall in \(window.windowsPerRow) windows; at most 1,000 (make every larger)") }
        case (nil, nil): throw settings.error(Self.tumbling, "time windows need tumbling: 5m or sliding: {size: 10m, every: 1m}", code: "missing_field")
        default: throw settings.error(Self.sliding, "set tumbling or sliding, not both")
        }
        guard window.size > 0 else { throw settings.error(Self.tumbling, "a window must be longer than zero") }
        var aggregates: [WindowFunction] = []
        for entry in aggregateEntries {
            let function = try WindowFunction(name: entry.name, text: entry.value, location: entry.location, node: settings.node, field: "aggregates")
            guard [.count, .sum, .avg, .min, .max].contains(function.kind), function.frame == .defaultRange else {
                throw ConfigError(code: "invalid_value", message: "a time window aggregates with count(*), count(x), sum(x), avg(x), min(x) or max(x)",
                                  location: entry.location, node: settings.node, field: "aggregates.\(entry.name)")
            }
            aggregates.append(function)
        }
        guard !aggregates.isEmpty else { throw settings.error(Self.aggregates, "name at least one aggregate, e.g. {orders: \"count(*)\"}", code: "missing_field") }
        return (column, window, aggregates)
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        if let timeWindows { return try planTimeWindows(timeWindows, input, request) }
        var sortKeys: [RowOrder.Key] = []
        var partitionIndexes: [Int] = []
        for name in partitionColumns {
            let index = try settings.column(name, in: input, for: Self.partitionBy)
            partitionIndexes.append(index)
            sortKeys.append(RowOrder.Key(column: index, descending: false, nullsFirst: true))
        }
        var orderKeys: [RowOrder.Key] = []
        for key in order {
            let index = try settings.column(key.column, in: input, for: Self.orderBy)
            orderKeys.append(RowOrder.Key(column: index, descending: key.descending, nullsFirst: key.nullsFirst))
        }
        var fields = input.fields
        var planned: [PlannedWindowFunction] = []
        for function in functions {
            let argument = try function.argument.map { (e: Expressions.Expression) throws(ConfigError) -> BoundExpression in
                try request.bind(e, to: input, field: "columns.\(function.name)", location: function.location)
            }
            let type = try function.resultType(argument: argument?.type, settings: settings)
            guard input.index(of: function.name) == nil, !fields.contains(where: { $0.name == function.name }) else {
                throw settings.error(Self.columns, "the column '\(function.name)' exists already", code: "duplicate_column")
            }
            fields.append(SchemaField(function.name, type))
            planned.append(PlannedWindowFunction(function: function, argument: argument, type: type))
        }
        let output = Schema(fields)
        let sort = ExternalSort(order: RowOrder(keys: sortKeys + orderKeys), schema: input, memoryLimit: memoryLimit, node: request.node,
                                groupKeys: sortKeys.count)
        return NodePlan(outputs: ["out": output], work: WindowWork(sort: sort, partition: partitionIndexes, order: RowOrder(keys: orderKeys),
                                                                   functions: planned, output: output))
    }
}

extension WindowNode {
    /// Output: the partition columns, window_start, window_end, then the aggregates.
    private func planTimeWindows(_ spec: (column: String, window: TimeWindow, aggregates: [WindowFunction]), _ input: Schema,
                                 _ request: PlanRequest) throws(ConfigError) -> NodePlan {
        let time = try settings.column(spec.column, in: input, for: Self.time)
        guard input.fields[time].type == .timestamp || input.fields[time].type == .date else {
            throw settings.error(Self.time, "the time column '\(spec.column)' is \(input.fields[time].type); it must be a timestamp or a date (CAST it in a compute node)", code: "type_mismatch")
        }
        var fields: [SchemaField] = []
        var partitionIndexes: [Int] = []
        for name in partitionColumns {
            let index = try settings.column(name, in: input, for: Self.partitionBy)
            partitionIndexes.append(index)
            fields.append(input.fields[index])
        }
        fields += [SchemaField("window_start", .timestamp, nullable: false), SchemaField("window_end", .timestamp, nullable: false)]
        var planned: [PlannedWindowFunction] = []
        for function in spec.aggregates {
            let argument = try function.argument.map { (e: Expressions.Expression) throws(ConfigError) -> BoundExpression in
                try request.bind(e, to: input, field: "aggregates.\(function.name)", location: function.location)
            }
            let type = try function.resultType(argument: argument?.type, settings: settings)
            guard !fields.contains(where: { $0.name == function.name }) else {
                throw settings.error(Self.aggregates, "the column '\(function.name)' exists already", code: "duplicate_column")
            }
            fields.append(SchemaField(function.name, type))
            planned.append(PlannedWindowFunction(function: function, argument: argument, type: type))
        }
        let output = Schema(fields)
        return NodePlan(outputs: ["out": output], work: TimeWindowWork(time: time, timeName: spec.column, timeIsDate: input.fields[time].type == .date, window: spec.window,
                                                                       partition: partitionIndexes, aggregates: planned, output: output))
    }
}

/// One `columns` entry, parsed: the function, its argument, offset and frame.
struct WindowFunction: Sendable {
    enum Kind: String, Sendable { case rowNumber = "row_number", rank, denseRank = "dense_rank", lag, lead, firstValue = "first_value", lastValue = "last_value",
                                      count, sum, avg, min, max }
    /// The rows an aggregate (or first/last_value) covers, ending at the current row.
    enum Frame: Sendable, Equatable {
        /// SQL's default: the partition's start to the current row and its peers (the whole partition without orderBy).
        case defaultRange
        /// `ROWS BETWEEN n PRECEDING AND CURRENT ROW` (nil n: UNBOUNDED PRECEDING).
        case rows(preceding: Int?)
    }

    let name: String
    let kind: Kind
    let argument: Expressions.Expression?
    let offset: Int
    let defaultValue: Value?
    let frame: Frame
    let location: SourceLocation?

    init(name: String, text: String, location: SourceLocation?, node: String?, field: String = "columns") throws(ConfigError) {
        func fail(_ message: String) -> ConfigError {
            ConfigError(code: "invalid_value", message: message, location: location, node: node, field: "\(field).\(name)",
                        expected: "row_number(), rank(), dense_rank(), lag(x, n), lead(x, n), first_value(x), last_value(x), count(*), sum(x), avg(x), min(x), max(x) [ROWS BETWEEN n PRECEDING AND CURRENT ROW]")
        }
        self.name = name
        self.location = location
        var call = text.trimmingCharacters(in: .whitespaces)
        var frame = Frame.defaultRange
        if let range = call.range(of: #"\s+ROWS\s+BETWEEN\s+(UNBOUNDED|\d+)\s+PRECEDING\s+AND\s+CURRENT\s+ROW$"#, options: [.regularExpression, .caseInsensitive]) {
            let clause = call[range].uppercased().split(separator: " ")
            let bound = clause[clause.firstIndex(of: "BETWEEN")! + 1]
            frame = .rows(preceding: bound == "UNBOUNDED" ? nil : Int(bound))
            call = String(call[..<range.lowerBound])
        }
        self.frame = frame
        let expression: Expressions.Expression
        do { expression = try Expressions.Expression(call) } catch { throw fail("'\(text)': \(error.description)") }
        guard case let .call(function, args, distinct, star, _) = expression.syntax, let kind = Kind(rawValue: function.lowercased()) else {
            throw fail("'\(text)' is not a window function")
        }
        guard !distinct else { throw fail("DISTINCT is not supported in window functions") }
        self.kind = kind
        switch kind {
        case .rowNumber, .rank, .denseRank:
            guard args.isEmpty, !star else { throw fail("\(function)() takes no argument") }
            argument = nil
            offset = 0
            defaultValue = nil
        case .count where star:
            argument = nil
            offset = 0
            defaultValue = nil
        case .lag, .lead:
            guard (1...3).contains(args.count) else { throw fail("\(function)(x[, n[, default]]) takes one to three arguments") }
            argument = Expressions.Expression(syntax: args[0], source: text)
            if args.count >= 2 {
                guard case let .literal(.int(n), _) = args[1], n >= 0 else { throw fail("the offset of \(function)() is a whole number ≥ 0") }
                offset = Int(n)
            } else {
                offset = 1
            }
            if args.count == 3 {
                guard case let .literal(value, _) = args[2] else { throw fail("the default of \(function)() is a literal value") }
                defaultValue = value
            } else {
                defaultValue = nil
            }
        default:
            guard args.count == 1, !star else { throw fail("\(function)() takes exactly one argument") }
            argument = Expressions.Expression(syntax: args[0], source: text)
            offset = 0
            defaultValue = nil
        }
        if frame != .defaultRange, ![.count, .sum, .avg, .min, .max, .firstValue, .lastValue].contains(kind) {
            throw fail("a ROWS frame applies to aggregates, first_value and last_value")
        }
    }

    func resultType(argument: DataType?, settings: Settings) throws(ConfigError) -> DataType {
        switch kind {
        case .rowNumber, .rank, .denseRank, .count: return .int64
        case .avg:
            guard argument?.isNumeric == true else { throw mismatch("avg() needs a number", settings) }
            if case let .decimal(_, scale) = argument { return .decimal(precision: ExactDecimal.maxPrecision, scale: SumAccumulator.averageScale(scale)) }
            return .float64
        case .sum:
            guard let argument, argument.isNumeric else { throw mismatch("sum() needs a number", settings) }
            if case let .decimal(_, scale) = argument { return .decimal(precision: ExactDecimal.maxPrecision, scale: scale) }
            return argument == .int64 ? .int64 : .float64
        case .min, .max:
            guard argument != .json else { throw mismatch("json values have no order", settings) }
            return argument!
        case .lag, .lead, .firstValue, .lastValue: return argument!
        }
    }

    private func mismatch(_ message: String, _ settings: Settings) -> ConfigError {
        ConfigError(code: "type_mismatch", message: message, location: location, node: settings.node, field: "columns.\(name)")
    }
}

/// A window function bound to the input schema.
struct PlannedWindowFunction: Sendable {
    let function: WindowFunction
    let argument: BoundExpression?
    let type: DataType
}
