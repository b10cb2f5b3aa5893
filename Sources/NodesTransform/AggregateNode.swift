import Columnar
import Expressions
public import NodeKit

/// Groups rows and computes aggregates per group: count, count(distinct), sum, avg, min, max, the standard deviation
/// and variance, median and percentiles, string_agg, first and last, bool_and and bool_or, approx_count_distinct.
///
/// Memory is bounded by the number of groups (and, for count(distinct x), their distinct values);
/// results are emitted after the input ends, in order of each group's first appearance.
public struct AggregateNode: NodeType {
    static let groupBy = Field<[String]>("groupBy", summary: "Columns to group by (none: one row for the whole input).", default: [])
    static let aggregates = Field<NamedValues<Expression>>("aggregates", summary: "Output column → aggregate: count(*), count(x), count(distinct x), sum(x), avg(x), min(x), max(x), stddev(x), stddev_pop(x), variance(x), var_pop(x), median(x), percentile_cont(x, 0.9), string_agg(x, ', '), first(x), last(x), bool_and(x), bool_or(x), approx_count_distinct(x); x may be an expression.",
                                                           example: "{orders: \"count(*)\", revenue: \"sum(amount)\"}")
    public static let spec = NodeSpec(
        id: "aggregate", version: 1, category: .transform, title: "Aggregate",
        summary: "Groups rows and computes counts, sums, averages, minimums and maximums.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [groupBy.spec, aggregates.spec], capabilities: [.rejects], icon: "sigma")

    enum Function: String {
        case count, sum, avg, min, max, stddev, stddevSample = "stddev_samp", stddevPopulation = "stddev_pop", variance, varianceSample = "var_samp",
             variancePopulation = "var_pop", median, percentile = "percentile_cont", stringAgg = "string_agg", first, last, boolAnd = "bool_and",
             boolOr = "bool_or", approxDistinct = "approx_count_distinct"

        var isStatistic: Bool { [.stddev, .stddevSample, .stddevPopulation, .variance, .varianceSample, .variancePopulation, .median, .percentile].contains(self) }
    }

    struct Aggregate {
        let name: String
        let function: Function
        let distinct: Bool
        let argument: Expression?
        /// percentile_cont's fraction, string_agg's separator.
        let parameter: Value?
        let location: SourceLocation?
    }

    let groupBy: [String]
    let aggregates: [Aggregate]
    let settings: Settings

    public init(settings: Settings) throws(ConfigError) {
        groupBy = try settings[Self.groupBy]
        let entries = try settings[Self.aggregates].entries
        self.settings = settings
        var aggregates: [Aggregate] = []
        for entry in entries {
            let field = "aggregates.\(entry.name)"
            func fail(_ message: String) -> ConfigError {
                ConfigError(code: "invalid_value", message: message, location: entry.location, node: settings.node, field: field,
                            expected: "count(*), count(x), count(distinct x), sum, avg, min, max, stddev, stddev_pop, variance, var_pop, median(x), percentile_cont(x, p), string_agg(x, sep), first, last, bool_and, bool_or, approx_count_distinct")
            }
            guard case let .call(name, args, distinct, star, _) = entry.value.syntax, let function = Function(rawValue: name.lowercased()) else {
                throw fail("'\(entry.value.source)' is not an aggregate")
            }
            if star, function != .count { throw fail("only count accepts *") }
            if distinct, function != .count { throw fail("DISTINCT is supported in count only") }
            var parameter: Value?
            switch function {
            case .percentile:
                guard args.count == 2, case let .literal(value, _) = args[1], let p = value.doubleValue, (0...1).contains(p) else {
                    throw fail("percentile_cont(x, p) takes a column and a fraction from 0 to 1")
                }
                parameter = .float(p)
            case .stringAgg:
                guard args.count == 2, case let .literal(.string(separator), _) = args[1] else { throw fail("string_agg(x, separator) takes a column and a text literal") }
                parameter = .string(separator)
            default:
                if !star, args.count != 1 { throw fail("\(name)() takes exactly one argument") }
            }
            aggregates.append(Aggregate(name: entry.name, function: function, distinct: distinct,
                                        argument: star ? nil : Expression(syntax: args[0], source: entry.value.source), parameter: parameter, location: entry.location))
        }
        if aggregates.isEmpty && groupBy.isEmpty { throw settings.error(Self.aggregates, "list at least one aggregate or group-by column") }
        self.aggregates = aggregates
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        var fields: [SchemaField] = []
        for name in groupBy {
            guard let field = input.field(named: name) else {
                throw settings.error(Self.groupBy, "unknown column '\(name)'; available columns: \(input.names.joined(separator: ", "))", code: "unknown_column")
            }
            fields.append(field)
        }
        var bound: [(Aggregate, BoundExpression?)] = []
        for aggregate in aggregates {
            let expression = try aggregate.argument.map { (e: Expression) throws(ConfigError) -> BoundExpression in
                try request.bind(e, to: input, field: "aggregates.\(aggregate.name)", location: aggregate.location)
            }
            let argumentType = expression?.type ?? .int64
            let type: DataType
            switch aggregate.function {
            case .count: type = .int64
            case .sum, .avg:
                guard argumentType.isNumeric else {
                    throw ConfigError(code: "type_mismatch", message: "\(aggregate.function.rawValue)() needs a number, but \(aggregate.argument!.source) is \(argumentType)",
                                      location: aggregate.location, node: request.node, field: "aggregates.\(aggregate.name)")
                }
                type = SumAccumulator(input: argumentType, isAverage: aggregate.function == .avg).type
            case .min, .max:
                guard argumentType != .json else {
                    throw ConfigError(code: "type_mismatch", message: "json values have no order", location: aggregate.location, node: request.node, field: "aggregates.\(aggregate.name)")
                }
                type = argumentType
            case _ where aggregate.function.isStatistic:
                guard argumentType.isNumeric else {
                    throw ConfigError(code: "type_mismatch", message: "\(aggregate.function.rawValue)() needs a number, but \(aggregate.argument!.source) is \(argumentType)",
                                      location: aggregate.location, node: request.node, field: "aggregates.\(aggregate.name)")
                }
                type = .float64
            case .boolAnd, .boolOr:
                guard argumentType == .bool else {
                    throw ConfigError(code: "type_mismatch", message: "\(aggregate.function.rawValue)() needs a bool, but \(aggregate.argument!.source) is \(argumentType)",
                                      location: aggregate.location, node: request.node, field: "aggregates.\(aggregate.name)")
                }
                type = .bool
            case .stringAgg: type = .string
            case .first, .last: type = argumentType
            case .approxDistinct: type = .int64
            default: type = .float64
            }
            fields.append(SchemaField(aggregate.name, type))
            bound.append((aggregate, expression))
        }
        let schema = Schema(fields)
        guard Set(schema.names).count == schema.count else {
            throw settings.error(Self.aggregates, "output column names repeat: \(schema.names.joined(separator: ", "))", code: "duplicate_column")
        }
        return NodePlan(outputs: ["out": schema], work: Work(groupBy: groupBy, aggregates: bound, schema: schema))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? {
        var needed = Set(groupBy)
        for aggregate in aggregates { needed.formUnion(aggregate.argument?.referencedColumns ?? []) }
        return needed
    }

    struct Work: NodeWork {
        let groupBy: [String]
        let aggregates: [(Aggregate, BoundExpression?)]
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var table = GroupTable()
            let accumulators: [any Accumulator] = aggregates.map { aggregate, expression in
                switch aggregate.function {
                case .count: aggregate.distinct ? DistinctCountAccumulator() : CountAccumulator()
                case .sum, .avg: SumAccumulator(input: expression!.type, isAverage: aggregate.function == .avg)
                case .min, .max: ExtremumAccumulator(type: expression!.type, isMax: aggregate.function == .max)
                case .stddev, .stddevSample: VarianceAccumulator(population: false, root: true)
                case .stddevPopulation: VarianceAccumulator(population: true, root: true)
                case .variance, .varianceSample: VarianceAccumulator(population: false, root: false)
                case .variancePopulation: VarianceAccumulator(population: true, root: false)
                case .median: PercentileAccumulator(fraction: 0.5)
                case .percentile: PercentileAccumulator(fraction: aggregate.parameter?.doubleValue ?? 0.5)
                case .stringAgg: StringAggAccumulator(separator: { if case let .string(s) = aggregate.parameter { s } else { "," } }())
                case .first, .last: PositionalAccumulator(type: expression!.type, last: aggregate.function == .last)
                case .boolAnd, .boolOr: BoolAccumulator(isAnd: aggregate.function == .boolAnd)
                case .approxDistinct: ApproxDistinctAccumulator()
                }
            }
            var row = 0
            for try await batch in context.input("in") {
                var arguments: [Column?] = []
                var failed: [Int: ExpressionError] = [:]
                for (aggregate, expression) in aggregates {
                    guard let expression else { arguments.append(nil); continue }
                    let result = expression.evaluate(batch)
                    for (r, e) in result.rowErrors where failed[r] == nil { failed[r] = e }
                    arguments.append(result.column)
                    _ = aggregate
                }
                var rows = batch
                if !failed.isEmpty {
                    try await context.reject(RejectedRecord.rows(of: batch, errors: failed, field: "aggregates", firstRow: row))
                    var keep = [Bool](repeating: true, count: batch.count)
                    for r in failed.keys { keep[r] = false }
                    rows = batch.filtered(keep)
                    arguments = arguments.map { $0?.filtered(keep, keptCount: rows.count) }
                }
                row += batch.count
                let groups = table.groups(of: groupBy.map { rows.column(named: $0)! }, rows: rows.count)
                for (j, (accumulator, column)) in zip(accumulators, arguments).enumerated() {
                    do { try accumulator.update(column, groups: groups, groupCount: table.count) } catch {
                        let name = schema.fields[groupBy.count + j].name
                        if case .decimal = accumulator.type {
                            throw NodeError(code: "out_of_range", message: "the decimal sum '\(name)' has more than \(ExactDecimal.maxPrecision) digits; cast the argument to float64")
                        }
                        throw NodeError(code: "out_of_range", message: "the int64 sum '\(name)' overflowed; cast the argument to float64")
                    }
                }
            }
            if table.count == 0, groupBy.isEmpty { _ = table.groups(of: [], rows: 0) }
            for accumulator in accumulators { try? accumulator.update(nil, groups: [], groupCount: table.count) }
            let batchSize = 65_536
            var start = 0
            while start < table.count {
                let end = min(table.count, start + batchSize)
                var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: end - start) }
                for g in start..<end {
                    for (j, accumulator) in accumulators.enumerated() {
                        if let sum = accumulator as? SumAccumulator, sum.overflowed(g) {
                            throw NodeError(code: "out_of_range", message: "the decimal sum '\(schema.fields[groupBy.count + j].name)' has more than \(ExactDecimal.maxPrecision) digits; cast the argument to float64")
                        }
                    }
                    for (i, value) in table.keys[g].enumerated() { builders[i].append(value) }
                    for (j, accumulator) in accumulators.enumerated() { builders[groupBy.count + j].append(accumulator.result(g)) }
                }
                try await context.emit(RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() }), on: "out")
                start = end
            }
            return nil
        }
    }
}
