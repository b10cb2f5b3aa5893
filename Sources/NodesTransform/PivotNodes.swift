import Columnar
public import NodeKit

/// Turns values of one column into columns: one row per `index` group, one column per value of `column` holding
/// the aggregate of `value` (`sum`, `count`, `avg`, `min`, `max`, `first`, as the aggregate node computes them).
/// The new columns are `values` in that order or, when it is left out, every value the input holds, sorted, found
/// before the run (the input is read twice); a group without a value for a column gets NULL (count: 0).
public struct PivotNode: NodeType {
    enum Function: String, Choice { case sum, count, avg, min, max, first }

    static let index = Field<[String]>("index", summary: "Columns that identify an output row.", example: "[customer_id]")
    static let column = Field<String>("column", summary: "The column whose values become column names.", example: "country")
    static let value = Field<String>("value", summary: "The column aggregated into each cell.", example: "amount")
    static let aggregate = Field<Function>("aggregate", summary: "sum, count, avg, min, max or first (the first non-NULL value seen).", default: .sum)
    static let values = Field<[String]>(
        "values", summary: "The values that become columns, in order; rows with other values are dropped and counted. Left out: every value of column, sorted, found before the run by reading the input once more (at most \(maxDiscoveredValues)).",
        default: [])

    /// The most columns a pivot discovers; more is an error asking for a list.
    static let maxDiscoveredValues = 1_000

    public static let spec = NodeSpec(
        id: "pivot", version: 1, category: .transform, title: "Pivot",
        summary: "Turns the values of one column into columns, aggregating another into each cell.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [index.spec, column.spec, value.spec, aggregate.spec, values.spec], icon: "table-2")

    let settings: Settings
    let indexColumns: [String]
    let pivotColumn: String
    let valueColumn: String
    let function: Function
    let fixedValues: [String]

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        indexColumns = try settings[Self.index]
        pivotColumn = try settings[Self.column]
        valueColumn = try settings[Self.value]
        function = try settings[Self.aggregate]
        fixedValues = try settings[Self.values]
        guard Set(fixedValues).count == fixedValues.count else { throw settings.error(Self.values, "values repeat") }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        func find<T>(_ name: String, _ field: Field<T>) throws(ConfigError) -> Int { try settings.column(name, in: input, for: field) }
        var indexes: [Int] = []
        for name in indexColumns { indexes.append(try find(name, Self.index)) }
        let pivot = try find(pivotColumn, Self.column), value = try find(valueColumn, Self.value)
        let valueType = input.fields[value].type
        if function == .sum || function == .avg, !valueType.isNumeric {
            throw settings.error(Self.aggregate, "\(function.rawValue) needs a number; '\(valueColumn)' is \(valueType)", code: "type_mismatch")
        }
        let cellType = PivotWork.accumulator(function, valueType).type
        let names = fixedValues.isEmpty ? try await discoveredValues(request) : fixedValues
        var fields = indexes.map { input.fields[$0] }
        for name in names {
            guard !fields.contains(where: { $0.name == name }) else { throw settings.error(Self.values, "'\(name)' is also an index column", code: "duplicate_column") }
            fields.append(SchemaField(name, cellType))
        }
        return NodePlan(outputs: ["out": Schema(fields)], work: PivotWork(index: indexes, pivot: pivot, value: value, function: function, values: names,
                                                                          valueType: valueType, valueName: valueColumn, schema: Schema(fields)))
    }

    /// Every non-NULL value of the pivot column, sorted (numbers by value, text by its bytes), as column names.
    private func discoveredValues(_ request: PlanRequest) async throws(ConfigError) -> [String] {
        guard let discover = request.discover else {
            throw settings.error(Self.values, "list the values that become columns (values: [DE, FR, US])", code: "missing_field")
        }
        let found: [Value]
        do { found = try await discover("in", pivotColumn, Self.maxDiscoveredValues) } catch {
            throw ConfigError(code: error.code, message: error.message, location: settings.location(of: Self.values), node: settings.node, field: Self.values.name)
        }
        guard found.count <= Self.maxDiscoveredValues else {
            throw settings.error(Self.values, "'\(pivotColumn)' has more than \(Self.maxDiscoveredValues) distinct values; list the ones that become columns",
                                 code: "too_many_values")
        }
        let order = RowOrder(keys: [RowOrder.Key(column: 0, descending: false, nullsFirst: false)])
        var names: [String] = []
        for value in found.sorted(by: { order.compare([$0], [$1]) < 0 }) where !names.contains(value.description) { names.append(value.description) }
        return names
    }
}

/// The run of a pivot: every (group, value) cell is a group of the aggregate node's accumulators.
struct PivotWork: NodeWork {
    let index: [Int]
    let pivot: Int
    let value: Int
    let function: PivotNode.Function
    let values: [String]
    let valueType: DataType
    let valueName: String
    let schema: Schema

    /// The accumulator computing `function` over values of `type`, shared with the aggregate node.
    static func accumulator(_ function: PivotNode.Function, _ type: DataType) -> any Accumulator {
        switch function {
        case .sum, .avg: SumAccumulator(input: type, isAverage: function == .avg)
        case .count: CountAccumulator()
        case .min, .max: ExtremumAccumulator(type: type, isMax: function == .max)
        case .first: PositionalAccumulator(type: type, last: false)
        }
    }

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        var groups = GroupTable()
        let accumulator = Self.accumulator(function, valueType)
        let position = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
        let width = values.count
        var dropped = 0
        for try await batch in context.input("in") {
            let rowGroups = groups.groups(of: index.map { batch.columns[$0] }, rows: batch.count)
            let names = batch.columns[pivot], cells = batch.columns[value]
            // The rows with a listed value and a non-NULL cell, and their cells' slots (group × value).
            var rows: [Int32] = [], slots: [Int] = []
            for r in 0..<batch.count {
                guard !names.isNull(r), let k = position[names.value(at: r).description] else { dropped += 1; continue }
                if cells.isNull(r) { continue }
                rows.append(Int32(r))
                slots.append(rowGroups[r] * width + k)
            }
            let kept = rows.count == batch.count ? cells : rows.withUnsafeBufferPointer { cells.gathered($0) }
            do { try accumulator.update(kept, groups: slots, groupCount: groups.count * width) } catch {
                throw NodeError(code: "out_of_range", message: "an int64 sum overflowed; cast '\(valueName)' to float64")
            }
        }
        if dropped > 0 { context.log(.info, "pivot: \(dropped) row(s) had a value not listed in values (or NULL) and were left out") }
        var empty = ColumnBuilder(type: valueType)
        try? accumulator.update(empty.finish(), groups: [], groupCount: groups.count * width)
        var start = 0
        while start < groups.count {
            let end = min(groups.count, start + 65_536)
            var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: end - start) }
            for g in start..<end {
                for (i, key) in groups.keys[g].enumerated() { builders[i].append(key) }
                for k in values.indices {
                    let slot = g * width + k
                    if let sum = accumulator as? SumAccumulator, sum.overflowed(slot) {
                        throw NodeError(code: "out_of_range", message: "the decimal sum in column '\(values[k])' has more than \(ExactDecimal.maxPrecision) digits; cast '\(valueName)' to float64")
                    }
                    builders[index.count + k].append(accumulator.result(slot))
                }
            }
            try await context.emit(RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() }, count: end - start), on: "out")
            start = end
        }
        return nil
    }
}

/// Turns columns into rows: each input row becomes one row per listed column, with the column's name and value
/// (`nameColumn`, `valueColumn`) beside the other columns. The listed columns share a type (int64 and float64 mix
/// into float64; other mixes become text). NULL values are left out unless `includeNulls`.
public struct UnpivotNode: NodeType {
    static let columns = Field<[String]>("columns", summary: "The columns that become rows.", example: "[jan, feb, mar]")
    static let nameColumn = Field<String>("nameColumn", summary: "The new column holding the former column's name.", default: "name")
    static let valueColumn = Field<String>("valueColumn", summary: "The new column holding its value.", default: "value")
    static let includeNulls = Field<Bool>("includeNulls", summary: "Also emit rows whose value is NULL.", default: false)

    public static let spec = NodeSpec(
        id: "unpivot", version: 1, category: .transform, title: "Unpivot",
        summary: "Turns columns into rows of name and value.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [columns.spec, nameColumn.spec, valueColumn.spec, includeNulls.spec], icon: "rows-3")

    let settings: Settings
    let unpivoted: [String]
    let name: String
    let value: String
    let keepNulls: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        unpivoted = try settings[Self.columns]
        guard !unpivoted.isEmpty else { throw settings.error(Self.columns, "list at least one column", code: "missing_field") }
        name = try settings[Self.nameColumn]
        value = try settings[Self.valueColumn]
        keepNulls = try settings[Self.includeNulls]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        var indexes: [Int] = []
        for column in unpivoted {
            let i = try settings.column(column, in: input, for: Self.columns)
            indexes.append(i)
        }
        let types = Set(indexes.map { input.fields[$0].type })
        let valueType: DataType = types.count == 1 ? types.first! : (types == [.int64, .float64] ? .float64 : .string)
        let kept = input.fields.indices.filter { !indexes.contains($0) }
        var fields = kept.map { input.fields[$0] }
        for new in [name, value] where fields.contains(where: { $0.name == new }) {
            throw settings.error(new == name ? Self.nameColumn : Self.valueColumn, "the input already has a column '\(new)'", code: "duplicate_column")
        }
        fields.append(SchemaField(name, .string, nullable: false))
        fields.append(SchemaField(value, valueType))
        return NodePlan(outputs: ["out": Schema(fields)], work: UnpivotWork(kept: kept, unpivoted: indexes, names: unpivoted, valueType: valueType,
                                                                            keepNulls: keepNulls, schema: Schema(fields)))
    }

    struct UnpivotWork: NodeWork {
        let kept: [Int]
        let unpivoted: [Int]
        let names: [String]
        let valueType: DataType
        let keepNulls: Bool
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            for try await batch in context.input("in") {
                var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batch.count * unpivoted.count) }
                var count = 0
                for r in 0..<batch.count {
                    for (k, column) in unpivoted.enumerated() {
                        let source = batch.columns[column]
                        if source.isNull(r) && !keepNulls { continue }
                        for (i, c) in kept.enumerated() { builders[i].append(from: batch.columns[c], r) }
                        builders[kept.count].appendString(names[k])
                        if source.isNull(r) {
                            builders[kept.count + 1].appendNull()
                        } else if source.type == valueType {
                            builders[kept.count + 1].append(from: source, r)
                        } else if valueType == .float64 {
                            builders[kept.count + 1].appendDouble(source.value(at: r).doubleValue ?? 0)
                        } else {
                            builders[kept.count + 1].appendString(source.value(at: r).description)
                        }
                        count += 1
                    }
                }
                if count > 0 { try await context.emit(RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() }, count: count), on: "out") }
            }
            return nil
        }
    }
}
