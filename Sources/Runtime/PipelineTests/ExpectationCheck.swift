import Columnar
import Expressions
import NodeKit

/// Checks one node's expectations against what reached it and what it rejected; each failure is a readable
/// paragraph (a diff of rows, the rows breaking a rule, the rejects that differ).
struct ExpectationCheck {
    let node: String
    let expectation: NodeExpectation
    let captured: CaptureBoard.Captured?
    let rejects: [RejectPacket]

    /// How many rows a failure lists at most.
    static let shownRows = 10

    func failures() -> [String] {
        var failures: [String] = []
        if expectation.needsRows {
            guard let captured else { return ["\(node): no rows reached it (the node did not run)"] }
            if captured.overflowed { return ["\(node): more than \(CaptureBoard.maxRows) rows; tests are for small inputs"] }
            let rows = captured.batches.flatMap { batch in (0..<batch.count).map { batch.row($0) } }
            if let count = expectation.count, rows.count != count { failures.append("\(node): expected \(count) row(s), got \(rows.count)") }
            if let expected = expectation.rows, let failure = compare(expected, rows, schema: captured.schema) { failures.append(failure) }
            for rule in expectation.every { if let failure = check(rule.source, captured) { failures.append(failure) } }
        }
        if let count = expectation.rejected, rejects.count != count {
            failures.append("\(node): expected \(count) rejected record(s), got \(rejects.count)" + listRejects())
        }
        if let expected = expectation.rejects, let failure = compareRejects(expected) { failures.append(failure) }
        return failures
    }

    // MARK: rows

    /// nil when `actual` holds the expected rows (only the columns they name; in order when `ordered`).
    func compare(_ expected: [[(column: String, value: Setting)]], _ actual: [[Value]], schema: Schema) -> String? {
        var columns: [String] = []
        for row in expected { for cell in row where !columns.contains(cell.column) { columns.append(cell.column) } }
        if let missing = columns.first(where: { schema.index(of: $0) == nil }) {
            return "\(node): no column '\(missing)'; its columns are: \(schema.names.joined(separator: ", "))"
        }
        if expected.isEmpty { columns = schema.names }
        let indexes = columns.map { schema.index(of: $0)! }
        let types = indexes.map { schema.fields[$0].type }
        func matches(_ want: [(column: String, value: Setting)], _ row: [Value]) -> Bool {
            for (k, column) in columns.enumerated() {
                let cell = want.first { $0.column == column }?.value ?? Setting(.null)
                if !Self.matches(cell, row[indexes[k]], type: types[k]) { return false }
            }
            return true
        }
        func show(_ row: [Value]) -> String { "{" + columns.indices.map { "\(columns[$0]): \(Self.text(row[indexes[$0]]))" }.joined(separator: ", ") + "}" }
        func show(_ want: [(column: String, value: Setting)]) -> String {
            "{" + columns.map { column in "\(column): \(want.first { $0.column == column }.map { Self.text($0.value) } ?? "NULL")" }.joined(separator: ", ") + "}"
        }
        var lines: [String] = []
        if expectation.ordered {
            for i in 0..<max(expected.count, actual.count) where lines.count < Self.shownRows * 2 {
                let want = i < expected.count ? expected[i] : nil, got = i < actual.count ? actual[i] : nil
                if let want, let got, matches(want, got) { continue }
                lines.append("    row \(i + 1):")
                if let want { lines.append("      - \(show(want))") }
                if let got { lines.append("      + \(show(got))") }
            }
        } else {
            var unmatched = Array(actual.indices)
            var missing: [Int] = []
            for (i, want) in expected.enumerated() {
                if let k = unmatched.firstIndex(where: { matches(want, actual[$0]) }) { unmatched.remove(at: k) } else { missing.append(i) }
            }
            for i in missing.prefix(Self.shownRows) { lines.append("      - \(show(expected[i]))") }
            if missing.count > Self.shownRows { lines.append("      - … \(missing.count - Self.shownRows) more") }
            for i in unmatched.prefix(Self.shownRows) { lines.append("      + \(show(actual[i]))") }
            if unmatched.count > Self.shownRows { lines.append("      + … \(unmatched.count - Self.shownRows) more") }
        }
        guard !lines.isEmpty else { return nil }
        let header = "\(node): rows differ (expected \(expected.count), got \(actual.count)\(expectation.ordered ? ", in order" : ""); - expected, + actual)"
        return ([header] + lines).joined(separator: "\n")
    }

    /// Whether a written value equals a row's value: cast to the column's type, numbers by value (floats within
    /// a relative 1e-9), text exactly, NULL only NULL.
    static func matches(_ expected: Setting, _ actual: Value, type: DataType) -> Bool {
        let written: Value = switch expected.kind {
        case .null: .null
        case let .bool(b): .bool(b)
        case let .int(n): .int(n)
        case let .double(d): .float(d)
        case let .string(s): .string(s)
        case .list, .map: .string(text(expected))
        }
        if written.isNull || actual.isNull { return written.isNull && actual.isNull }
        guard case let .success(value) = ValueCast.cast(written, to: type) else { return false }
        if case let .float(a) = value, case let .float(b) = actual {
            return a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b))
        }
        return value == actual || value.description == actual.description
    }

    static func text(_ value: Value) -> String {
        switch value {
        case .null: "NULL"
        case let .string(s): quoted(s)
        default: value.description
        }
    }

    static func text(_ setting: Setting) -> String {
        switch setting.kind {
        case .null: "NULL"
        case let .string(s): quoted(s)
        default: setting.scalarText ?? "\(setting.plain)"
        }
    }

    /// Text as written in a flow mapping (quoted when it would read as something else).
    static func quoted(_ s: String) -> String { YAMLWriter.scalar(s) }

    // MARK: rules

    /// nil when `source` is true for every row.
    func check(_ source: String, _ captured: CaptureBoard.Captured) -> String? {
        let bound: BoundExpression
        do { bound = try Expression(source).bindPredicate(to: captured.schema) } catch {
            return "\(node): every '\(source)': \(error.description)"
        }
        var broken: [String] = []
        var count = 0
        for batch in captured.batches {
            let evaluation = bound.evaluate(batch)
            for r in 0..<batch.count {
                let holds = evaluation.rowErrors[r] == nil && !evaluation.column.isNull(r) && evaluation.column.value(at: r) == .bool(true)
                guard !holds else { continue }
                count += 1
                if broken.count < Self.shownRows {
                    broken.append("      " + zip(batch.schema.names, batch.row(r)).map { "\($0): \(Self.text($1))" }.joined(separator: ", "))
                }
            }
        }
        guard count > 0 else { return nil }
        return (["\(node): \(count) row(s) break '\(source)':"] + broken).joined(separator: "\n")
    }

    // MARK: rejects

    func compareRejects(_ expected: [[(field: String, value: Setting)]]) -> String? {
        var lines: [String] = []
        for (i, want) in expected.enumerated() {
            guard i < rejects.count else { lines.append("    reject \(i + 1): expected \(describe(want)), got none"); continue }
            let record = rejects[i].record
            for (field, value) in want {
                let ok: Bool = switch field {
                case "code": record.code == value.scalarText
                case "message": value.scalarText.map { record.message.contains($0) } ?? false
                case "field": record.field == value.scalarText
                case "line": record.line.map(String.init) == value.scalarText
                case "row": record.row.map(String.init) == value.scalarText
                case "source": value.scalarText.map { (record.source ?? "").hasSuffix($0) } ?? false
                default: false
                }
                if !ok { lines.append("    reject \(i + 1): expected \(describe(want)), got \(describe(record))"); break }
            }
        }
        if rejects.count > expected.count {
            for packet in rejects[expected.count...].prefix(Self.shownRows) { lines.append("    unexpected reject: \(describe(packet.record))") }
        }
        guard !lines.isEmpty else { return nil }
        return (["\(node): rejects differ (expected \(expected.count), got \(rejects.count))"] + lines).joined(separator: "\n")
    }

    func listRejects() -> String {
        rejects.prefix(Self.shownRows).map { "\n    " + describe($0.record) }.joined()
    }

    func describe(_ want: [(field: String, value: Setting)]) -> String {
        "{" + want.map { "\($0.field): \(Self.text($0.value))" }.joined(separator: ", ") + "}"
    }

    func describe(_ record: RejectedRecord) -> String {
        var parts = ["code: \(record.code)"]
        if let line = record.line { parts.append("line: \(line)") }
        if let row = record.row { parts.append("row: \(row)") }
        if let field = record.field { parts.append("field: \(field)") }
        parts.append("message: \(Self.quoted(record.message))")
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
