import Columnar
public import NodeKit
import Foundation

/// A pipeline test file (`*.test.yaml`): the pipeline it tests and its tests. See docs/testing.md.
///
/// ```yaml
/// pipeline: orders.yaml
/// tests:
///   - name: only paid orders count
///     inputs: {orders: {rows: [{id: 1, status: paid, amount: 60}]}}
///     expect: {totals: {rows: [{orders: 1, revenue: 60}]}}
/// ```
public struct PipelineTestFile: Sendable {
    public let path: String
    /// The pipeline file, resolved against the test file's folder.
    public let pipeline: String
    public let tests: [PipelineTest]
    /// The file as read, for `--update`.
    public let root: Setting

    /// Reads and checks a test file; every problem names its line.
    public static func load(path: String) throws(ConfigErrors) -> PipelineTestFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigErrors([ConfigError(code: "unreadable_file", message: "cannot read \(path): \(error.localizedDescription)")])
        }
        let root: Setting
        do { root = try YAMLReader.read(text, file: path) } catch { throw ConfigErrors([error]) }
        var reader = TestFileReader(root: root)
        let file = reader.file(path: path)
        if !reader.problems.isEmpty { throw ConfigErrors(reader.problems) }
        return file!
    }
}

/// One test: which nodes are replaced by which rows, which sinks really write, and what is expected.
public struct PipelineTest: Sendable {
    public let name: String
    public let location: SourceLocation?
    public let parameters: [String: String]
    /// Node id → the rows that replace it.
    public let inputs: [String: TestInput]
    /// Sinks that write for real, with these settings laid over theirs (a temporary path, a scratch table).
    public let targets: [String: Setting]
    /// Node id → what its output (or, for a sink, its input) must be.
    public let expectations: [(node: String, expectation: NodeExpectation)]
}

/// What replaces a node in a test: rows written in the test, or a fixture file (CSV or JSON lines).
public enum TestInput: Sendable {
    case rows(Setting, schema: Setting?)
    /// A CSV or JSON lines file (by its extension), with column types the file's reader takes as its schema.
    case file(String, schema: Setting?)
}

/// The expectations on one node.
public struct NodeExpectation: Sendable {
    /// The output port (default: the node's first data output); a sink's expectations are on what it received.
    public var port: String?
    /// Exact rows; only the columns they name are compared.
    public var rows: [[(column: String, value: Setting)]]?
    public var ordered = false
    public var count: Int?
    /// Expressions every row must satisfy.
    public var every: [(source: String, location: SourceLocation?)] = []
    /// The node's rejects, in order; each lists fields that must match (`code`, `line`, `message` contains).
    public var rejects: [[(field: String, value: Setting)]]?
    public var rejected: Int?
    public var location: SourceLocation?

    /// Whether the node's rows must be collected.
    var needsRows: Bool { rows != nil || count != nil || !every.isEmpty }
}

/// Reads a test file's tree, collecting every problem with its location.
struct TestFileReader {
    let root: Setting
    var problems: [ConfigError] = []

    mutating func problem(_ message: String, at setting: Setting?, field: String? = nil, expected: String? = nil) {
        problems.append(ConfigError(code: "invalid_test", message: message, location: setting?.location ?? root.location, field: field, expected: expected))
    }

    mutating func unknownKeys(_ setting: Setting, allowed: [String], in place: String) {
        for entry in setting.entries ?? [] where !allowed.contains(entry.key) {
            problems.append(ConfigError(code: "unknown_field", message: "unknown key '\(entry.key)' in \(place)", location: entry.keyLocation,
                                        field: entry.key, expected: "one of: \(allowed.joined(separator: ", "))"))
        }
    }

    mutating func file(path: String) -> PipelineTestFile? {
        guard root.entries != nil else { problem("a test file is a mapping with pipeline and tests", at: root); return nil }
        unknownKeys(root, allowed: ["pipeline", "tests"], in: "the test file")
        guard let pipeline = root["pipeline"]?.scalarText else { problem("name the pipeline under test: pipeline: orders.yaml", at: root["pipeline"], field: "pipeline"); return nil }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let resolved = pipeline.hasPrefix("/") ? pipeline : folder.appendingPathComponent(pipeline).standardizedFileURL.path
        guard let list = root["tests"]?.list, !list.isEmpty else { problem("list the tests: tests: [{name: …, expect: …}]", at: root["tests"], field: "tests"); return nil }
        var tests: [PipelineTest] = []
        var names = Set<String>()
        for item in list {
            guard let test = self.test(item, folder: folder) else { continue }
            if !names.insert(test.name).inserted { problem("two tests are called '\(test.name)'", at: item["name"], field: "name") }
            tests.append(test)
        }
        return PipelineTestFile(path: path, pipeline: resolved, tests: tests, root: root)
    }

    /// `folder`: where `file:` inputs are relative to (nil: they stay as written, for the planner's file roots).
    mutating func test(_ item: Setting, folder: URL?) -> PipelineTest? {
        guard item.entries != nil else { problem("a test is a mapping with name, inputs and expect", at: item); return nil }
        unknownKeys(item, allowed: ["name", "parameters", "inputs", "targets", "expect"], in: "a test")
        guard let name = item["name"]?.scalarText, !name.isEmpty else { problem("a test needs a name", at: item, field: "name"); return nil }
        var parameters: [String: String] = [:]
        for entry in item["parameters"]?.entries ?? [] {
            guard let text = entry.value.scalarText else { problem("parameter '\(entry.key)' must be a scalar", at: entry.value, field: "parameters.\(entry.key)"); continue }
            parameters[entry.key] = text
        }
        var inputs: [String: TestInput] = [:]
        for entry in item["inputs"]?.entries ?? [] {
            let value = entry.value
            unknownKeys(value, allowed: ["rows", "schema", "file"], in: "input '\(entry.key)'")
            if let rows = value["rows"] {
                inputs[entry.key] = .rows(rows, schema: value["schema"])
            } else if let file = value["file"]?.scalarText {
                let path = file.hasPrefix("/") ? file : folder.map { $0.appendingPathComponent(file).standardizedFileURL.path } ?? file
                inputs[entry.key] = .file(path, schema: value["schema"])
            } else {
                problem("input '\(entry.key)' needs rows: [...] or file: fixture.csv", at: value, field: "inputs.\(entry.key)")
            }
        }
        var targets: [String: Setting] = [:]
        for entry in item["targets"]?.entries ?? [] {
            guard entry.value.entries != nil else { problem("target '\(entry.key)' is a mapping of settings to use", at: entry.value, field: "targets.\(entry.key)"); continue }
            targets[entry.key] = entry.value
        }
        var expectations: [(node: String, expectation: NodeExpectation)] = []
        for entry in item["expect"]?.entries ?? [] {
            if let expectation = self.expectation(entry.value, node: entry.key) { expectations.append((entry.key, expectation)) }
        }
        if expectations.isEmpty { problem("test '\(name)' expects nothing; add expect: {node: {rows: [...]}}", at: item, field: "expect") }
        return PipelineTest(name: name, location: item.location, parameters: parameters, inputs: inputs, targets: targets, expectations: expectations)
    }

    mutating func expectation(_ value: Setting, node: String) -> NodeExpectation? {
        guard value.entries != nil else { problem("expectations on '\(node)' are a mapping (rows, count, every, rejects)", at: value, field: "expect.\(node)"); return nil }
        unknownKeys(value, allowed: ["port", "rows", "ordered", "count", "every", "rejects", "rejected"], in: "the expectations on '\(node)'")
        var expectation = NodeExpectation(location: value.location)
        expectation.port = value["port"]?.scalarText
        if let rows = value["rows"] {
            guard let list = rows.list else { problem("rows is a list of mappings", at: rows, field: "expect.\(node).rows"); return nil }
            var parsed: [[(column: String, value: Setting)]] = []
            for row in list {
                guard let entries = row.entries else { problem("each expected row is a mapping from column to value", at: row, field: "expect.\(node).rows"); return nil }
                parsed.append(entries.map { ($0.key, $0.value) })
            }
            expectation.rows = parsed
        }
        if case let .bool(b)? = value["ordered"]?.kind { expectation.ordered = b }
        if let count = value["count"] {
            guard case let .int(n) = count.kind, n >= 0 else { problem("count is a number of rows", at: count, field: "expect.\(node).count"); return nil }
            expectation.count = Int(n)
        }
        if let every = value["every"] {
            let items = every.list ?? [every]
            for item in items {
                guard let text = item.scalarText else { problem("every lists expressions (\"amount >= 0\")", at: item, field: "expect.\(node).every"); continue }
                expectation.every.append((text, item.location))
            }
        }
        if let rejects = value["rejects"] {
            guard let list = rejects.list else { problem("rejects is a list of mappings (code, line, message, field)", at: rejects, field: "expect.\(node).rejects"); return nil }
            var parsed: [[(field: String, value: Setting)]] = []
            for item in list {
                guard let entries = item.entries else { problem("each expected reject is a mapping (code, line, message, field)", at: item, field: "expect.\(node).rejects"); continue }
                for entry in entries where !["code", "message", "field", "line", "row", "source"].contains(entry.key) {
                    problem("unknown key '\(entry.key)' in an expected reject", at: entry.value, field: entry.key, expected: "code, message, field, line, row, source")
                }
                parsed.append(entries.map { ($0.key, $0.value) })
            }
            expectation.rejects = parsed
        }
        if let rejected = value["rejected"] {
            guard case let .int(n) = rejected.kind, n >= 0 else { problem("rejected is a number of records", at: rejected, field: "expect.\(node).rejected"); return nil }
            expectation.rejected = Int(n)
        }
        return expectation
    }
}

extension PipelineTestFile {
    /// The tests a pipeline document carries under `tests:` (the same entries as a test file's); their `file:`
    /// inputs are relative to the pipeline's file roots.
    public static func embedded(in document: PipelineDocument) throws(ConfigErrors) -> [PipelineTest] {
        var reader = TestFileReader(root: Setting(.map([])))
        var tests: [PipelineTest] = []
        var names = Set<String>()
        for item in document.tests {
            guard let test = reader.test(item, folder: nil) else { continue }
            if !names.insert(test.name).inserted { reader.problem("two tests are called '\(test.name)'", at: item["name"], field: "name") }
            tests.append(test)
        }
        if !reader.problems.isEmpty { throw ConfigErrors(reader.problems) }
        return tests
    }

    /// The file's tree with each expected `rows:` replaced by the rows the test observed (the columns it named,
    /// or every column when it named none), for `sluice test --update`.
    public func updated(with results: [PipelineTestResult]) -> Setting {
        func replacing(_ setting: Setting, _ key: String, with value: (Setting) -> Setting) -> Setting {
            guard let entries = setting.entries else { return setting }
            return Setting(.map(entries.map { $0.key == key ? Setting.Entry(key: key, keyLocation: $0.keyLocation, value: value($0.value)) : $0 }),
                           location: setting.location)
        }
        return replacing(root, "tests") { tests in
            Setting(.list((tests.list ?? []).map { test in
                guard let name = test["name"]?.scalarText, let result = results.first(where: { $0.name == name }) else { return test }
                return replacing(test, "expect") { expect in
                    Setting(.map((expect.entries ?? []).map { entry in
                        guard entry.value["rows"] != nil, let observed = result.observedRows(entry.key) else { return entry }
                        let updated = replacing(entry.value, "rows") { old in Self.rows(observed, keeping: old) }
                        return Setting.Entry(key: entry.key, keyLocation: entry.keyLocation, value: updated)
                    }), location: expect.location)
                }
            }), location: tests.location)
        }
    }

    static func rows(_ observed: (schema: Schema, rows: [[Value]]), keeping old: Setting) -> Setting {
        var columns: [String] = []
        for row in old.list ?? [] { for entry in row.entries ?? [] where !columns.contains(entry.key) { columns.append(entry.key) } }
        columns = columns.filter { observed.schema.index(of: $0) != nil }
        if columns.isEmpty { columns = observed.schema.names }
        let indexes = columns.map { observed.schema.index(of: $0)! }
        return Setting(.list(observed.rows.map { row in
            Setting(.map(zip(columns, indexes).map { column, index in Setting.Entry(key: column, keyLocation: nil, value: setting(row[index])) }))
        }))
    }

    static func setting(_ value: Value) -> Setting {
        switch value {
        case .null: Setting(.null)
        case let .bool(b): Setting(.bool(b))
        case let .int(i): Setting(.int(i))
        // Whole numbers as written by hand (60, not 60.0); a float column still matches them.
        case let .float(d): d.rounded() == d && abs(d) < 9e15 ? Setting(.int(Int64(d))) : Setting(.double(d))
        default: Setting(.string(value.description))
        }
    }
}
