import Columnar
import Expressions
import Foundation
public import NodeKit

/// Data-quality checks on every row: not null, unique, accepted values, ranges, patterns and expressions. A row
/// that fails a check is rejected (kept with the names of the checks it failed), fails the run, or only counts in
/// a warning, as `onFail` says. NULL passes every check but notNull (as a SQL CHECK constraint).
public struct AssertNode: NodeType {
    enum OnFail: String, Choice { case reject, fail, warn }

    static let notNull = Field<[String]>("notNull", summary: "Columns that must not be NULL.", default: [])
    static let unique = Field<[String]>("unique", summary: "Columns whose values must not repeat (a later row with a value seen before fails).", default: [])
    static let accepted = Field<NamedValues<[String]>>("accepted", summary: "Column → the only values allowed (compared as text).", default: NamedValues())
    static let range = Field<NamedValues<ValueRange>>("range", summary: "Column → {min, max} (inclusive; either may be left out).", default: NamedValues())
    static let match = Field<NamedValues<String>>("match", summary: "Column → a regular expression the whole text must match.", default: NamedValues())
    static let expr = Field<[Expressions.Expression]>("expr", summary: "Conditions every row must meet (false fails; NULL passes).", default: [])
    static let onFail = Field<OnFail>("onFail", summary: "reject (keep failing rows out, in the rejects with the checks they failed), fail (stop the run at the first), warn (pass them, log counts).",
                                      default: .reject)

    public static let spec = NodeSpec(
        id: "assert", version: 1, category: .transform, title: "Check data",
        summary: "Checks rows (not null, unique, accepted values, ranges, patterns, expressions); rejects, fails or warns on failures.",
        inputs: [.data("in")], outputs: [.data("out", "Rows that passed (all rows with onFail: warn).")],
        fields: [notNull.spec, unique.spec, accepted.spec, range.spec, match.spec, expr.spec, onFail.spec], capabilities: [.rejects], icon: "shield-check")

    let settings: Settings
    let notNullColumns: [String]
    let uniqueColumns: [String]
    let acceptedValues: [(column: String, values: Set<String>)]
    let ranges: [(column: String, range: ValueRange)]
    let patterns: [(column: String, source: String, regex: NSRegularExpression)]
    let expressions: [Expressions.Expression]
    let failMode: OnFail

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        notNullColumns = try settings[Self.notNull]
        uniqueColumns = try settings[Self.unique]
        acceptedValues = try settings[Self.accepted].entries.map { ($0.name, Set($0.value)) }
        ranges = try settings[Self.range].entries.map { ($0.name, $0.value) }
        var patterns: [(String, String, NSRegularExpression)] = []
        for entry in try settings[Self.match].entries {
            do { patterns.append((entry.name, entry.value, try NSRegularExpression(pattern: "^(?:" + entry.value + ")$"))) } catch {
                throw ConfigError(code: "invalid_value", message: "'\(entry.value)' is not a regular expression", location: entry.location, node: settings.node, field: "match.\(entry.name)")
            }
        }
        self.patterns = patterns
        expressions = try settings[Self.expr]
        failMode = try settings[Self.onFail]
        if notNullColumns.isEmpty && uniqueColumns.isEmpty && acceptedValues.isEmpty && ranges.isEmpty && patterns.isEmpty && expressions.isEmpty {
            throw settings.error(Self.notNull, "name at least one check (notNull, unique, accepted, range, match or expr)", code: "missing_field")
        }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        func column<T>(_ name: String, _ field: Field<T>) throws(ConfigError) -> Int { try settings.column(name, in: input, for: field) }
        var checks: [RowCheck] = []
        for name in notNullColumns { checks.append(.notNull(name: "notNull(\(name))", column: try column(name, Self.notNull))) }
        for name in uniqueColumns { checks.append(.unique(name: "unique(\(name))", column: try column(name, Self.unique))) }
        for (name, values) in acceptedValues {
            checks.append(.accepted(name: "accepted(\(name))", column: try column(name, Self.accepted), values: values))
        }
        for (name, range) in ranges {
            let index = try column(name, Self.range)
            guard input.fields[index].type.isNumeric else {
                throw settings.error(Self.range, "range needs a number column; '\(name)' is \(input.fields[index].type)", code: "type_mismatch")
            }
            checks.append(.range(name: "range(\(name))", column: index, range: range))
        }
        for (name, source, regex) in patterns {
            checks.append(.match(name: "match(\(name), \(source))", column: try column(name, Self.match), regex: regex))
        }
        for (k, expression) in expressions.enumerated() {
            let bound = try request.bind(expression, to: input, field: "expr[\(k)]", location: settings.location(of: Self.expr), predicate: true)
            checks.append(.expression(name: expression.source, bound))
        }
        return NodePlan(outputs: ["out": input], work: AssertWork(checks: checks, mode: failMode))
    }
}

/// `{min: 0, max: 100}`: inclusive bounds, either optional.
struct ValueRange: SettingDecodable, Sendable {
    let min: Double?
    let max: Double?

    static var fieldKind: FieldKind { .map(.number) }

    init(setting: Setting, field: String) throws(ConfigError) {
        let bounds = try NamedValues<Double>(setting: setting, field: field)
        var min: Double?, max: Double?
        for entry in bounds.entries {
            switch entry.name {
            case "min": min = entry.value
            case "max": max = entry.value
            default:
                throw ConfigError(code: "invalid_value", message: "a range has min and max, not '\(entry.name)'", location: entry.location, field: "\(field).\(entry.name)")
            }
        }
        guard min != nil || max != nil else { throw ConfigError(code: "invalid_value", message: "give min, max or both", location: setting.location, field: field) }
        self.min = min
        self.max = max
    }

    static func describe(_ value: ValueRange) -> String { "{min: \(value.min.map { "\($0)" } ?? "-"), max: \(value.max.map { "\($0)" } ?? "-")}" }
}

/// One planned check.
enum RowCheck: @unchecked Sendable {
    case notNull(name: String, column: Int)
    case unique(name: String, column: Int)
    case accepted(name: String, column: Int, values: Set<String>)
    case range(name: String, column: Int, range: ValueRange)
    case match(name: String, column: Int, regex: NSRegularExpression)
    case expression(name: String, BoundExpression)

    var name: String {
        switch self {
        case let .notNull(name, _), let .unique(name, _), let .accepted(name, _, _), let .range(name, _, _), let .match(name, _, _), let .expression(name, _): name
        }
    }
}

/// Runs the checks over each batch and applies `onFail`.
struct AssertWork: NodeWork {
    let checks: [RowCheck]
    let mode: AssertNode.OnFail

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        var seen = [KeyIndex](repeating: KeyIndex(), count: checks.count)
        var failures = [Int](repeating: 0, count: checks.count)
        var rowNumber = 0
        var scratch: [UInt8] = []
        for try await batch in context.input("in") {
            var failed = [[Int]](repeating: [], count: batch.count)
            var errors: [Int: ExpressionError] = [:]
            for (c, check) in checks.enumerated() {
                switch check {
                case let .notNull(_, column):
                    let values = batch.columns[column]
                    for r in 0..<batch.count where values.isNull(r) { failed[r].append(c) }
                case let .unique(_, column):
                    let values = batch.columns[column]
                    for r in 0..<batch.count where !values.isNull(r) {
                        scratch.removeAll(keepingCapacity: true)
                        RowKey.append(values, r, to: &scratch)
                        if !seen[c].insert(scratch).inserted { failed[r].append(c) }
                    }
                case let .accepted(_, column, accepted):
                    let values = batch.columns[column]
                    for r in 0..<batch.count where !values.isNull(r) && !accepted.contains(values.value(at: r).description) { failed[r].append(c) }
                case let .range(_, column, range):
                    let values = batch.columns[column]
                    for r in 0..<batch.count where !values.isNull(r) {
                        guard let number = values.value(at: r).doubleValue else { continue }
                        if let min = range.min, number < min { failed[r].append(c); continue }
                        if let max = range.max, number > max { failed[r].append(c) }
                    }
                case let .match(_, column, regex):
                    let values = batch.columns[column]
                    for r in 0..<batch.count where !values.isNull(r) {
                        let text = values.value(at: r).description
                        if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil { failed[r].append(c) }
                    }
                case let .expression(_, bound):
                    let result = bound.evaluate(batch)
                    let values = result.column.boolValues
                    for r in 0..<batch.count where result.rowErrors[r] == nil && !result.column.isNull(r) && !values[r] { failed[r].append(c) }
                    for (r, error) in result.rowErrors where errors[r] == nil { errors[r] = error }
                }
            }
            var keep = [Bool](repeating: true, count: batch.count)
            var rejects: [RejectedRecord] = []
            for r in 0..<batch.count where !failed[r].isEmpty || errors[r] != nil {
                for c in failed[r] { failures[c] += 1 }
                let names = failed[r].map { checks[$0].name }
                if mode == .fail {
                    throw NodeError(code: "check_failed", message: "row \(rowNumber + r + 1) failed \(names.joined(separator: ", "))" + (errors[r].map { "; \($0.message)" } ?? ""))
                }
                if mode == .reject || errors[r] != nil {
                    keep[r] = false
                    let message = names.isEmpty ? "could not check: \(errors[r]!.message)" : "failed " + names.joined(separator: ", ")
                    rejects.append(RejectedRecord(code: names.isEmpty ? errors[r]!.code : "check_failed", message: message, field: names.first,
                                                  row: rowNumber + r, of: batch, r))
                }
            }
            if !rejects.isEmpty { try await context.reject(rejects) }
            rowNumber += batch.count
            let kept = keep.filter { $0 }.count
            if kept > 0 { try await context.emit(kept == batch.count ? batch : batch.filtered(keep), on: "out") }
        }
        let summary = zip(checks, failures).filter { $0.1 > 0 }.map { "\($0.0.name): \($0.1)" }
        if summary.isEmpty {
            context.log(.info, "assert: \(rowNumber) row(s), every check passed")
        } else {
            context.log(mode == .warn ? .warning : .info, "assert: \(rowNumber) row(s); failing rows per check: \(summary.joined(separator: ", "))")
        }
        return nil
    }
}
