import Columnar
import Expressions
public import NodeKit

/// Routes rows to named outputs by conditions: each key of `cases` is an output port of the node, and rows that
/// match no case go to `default`. With `mode: first` a row goes to the first case it matches (in the order
/// written); with `mode: all` to every case it matches. NULL counts as no match, as in WHERE; a row whose
/// condition fails to evaluate is rejected.
public struct SwitchNode: NodeType {
    enum Mode: String, Choice { case first, all }

    static let cases = Field<NamedValues<Expression>>("cases", summary: "Output port name → condition; each case becomes an output of the node.",
                                                       example: "{big: \"amount > 1000\", eu: \"country IN ('DE', 'FR')\"}")
    static let mode = Field<Mode>("mode", summary: "first (each row to the first case it matches) or all (to every case it matches).", default: .first)

    public static let spec = NodeSpec(
        id: "switch", version: 1, category: .transform, title: "Switch",
        summary: "Routes rows to named outputs by conditions (the outputs are the keys of cases), the rest to default.",
        inputs: [.data("in")], outputs: [.data("default", "Rows that match no case.")],
        fields: [cases.spec, mode.spec], capabilities: [.rejects], icon: "split", outputsFromSetting: "cases")

    /// Names a case cannot take: the node's other ports.
    static let reserved: Set<String> = ["default", "in", "start", "done", "failed", RejectedPort.name]

    let settings: Settings
    let conditions: NamedValues<Expression>
    let routeAll: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        conditions = try settings[Self.cases]
        routeAll = try settings[Self.mode] == .all
        guard !conditions.entries.isEmpty else { throw settings.error(Self.cases, "name at least one case, e.g. {big: \"amount > 1000\"}", code: "missing_field") }
        for entry in conditions.entries {
            if Self.reserved.contains(entry.name) {
                throw ConfigError(code: "invalid_value", message: "a case cannot be called '\(entry.name)': it is another port of the node",
                                  location: entry.location, node: settings.node, field: "cases.\(entry.name)")
            }
            if entry.name.isEmpty || entry.name.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
                throw ConfigError(code: "invalid_value", message: "case name '\(entry.name)' must be letters, digits, '_' or '-' (it names an output port)",
                                  location: entry.location, node: settings.node, field: "cases.\(entry.name)")
            }
        }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let schema = try request.input()
        var bound: [(port: String, condition: BoundExpression)] = []
        for entry in conditions.entries {
            bound.append((entry.name, try request.bind(entry.value, to: schema, field: "cases.\(entry.name)", location: entry.location, predicate: true)))
        }
        var outputs = ["default": schema]
        for entry in conditions.entries { outputs[entry.name] = schema }
        return NodePlan(outputs: outputs, work: Work(cases: bound, routeAll: routeAll))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? {
        demand.map { conditions.entries.reduce($0) { $0.union($1.value.referencedColumns) } }
    }

    struct Work: NodeWork {
        let cases: [(port: String, condition: BoundExpression)]
        let routeAll: Bool

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var row = 0
            for try await batch in context.input("in") {
                // Rows still unrouted (every row in `all` mode is matched against every case) and rows that failed.
                var unmatched = [Bool](repeating: true, count: batch.count)
                var failed = [Bool](repeating: false, count: batch.count)
                var errors: [Int: ExpressionError] = [:]
                var routed: [(port: String, keep: [Bool])] = []
                for (port, condition) in cases {
                    let result = condition.evaluate(batch)
                    let values = result.column.boolValues, validity = result.column.validity
                    for (r, error) in result.rowErrors where !failed[r] {
                        failed[r] = true
                        unmatched[r] = false
                        errors[r] = error
                    }
                    var keep = [Bool](repeating: false, count: batch.count)
                    var any = false
                    for r in 0..<batch.count where !failed[r] && values[r] && (validity?[r] ?? true) {
                        if routeAll {
                            keep[r] = true
                        } else if unmatched[r] {
                            keep[r] = true
                        } else {
                            continue
                        }
                        unmatched[r] = false
                        any = true
                    }
                    if any { routed.append((port, keep)) }
                }
                if !errors.isEmpty {
                    try await context.reject(RejectedRecord.rows(of: batch, errors: errors, field: "cases", firstRow: row))
                    // A row that failed in a later case may already be routed to an earlier one: take it back.
                    routed = routed.map { entry in (entry.port, entry.keep.indices.map { entry.keep[$0] && !failed[$0] }) }
                }
                row += batch.count
                for (port, keep) in routed { try await context.emit(batch.filtered(keep), on: port) }
                if unmatched.contains(true) { try await context.emit(batch.filtered(unmatched), on: "default") }
            }
            return nil
        }
    }
}
