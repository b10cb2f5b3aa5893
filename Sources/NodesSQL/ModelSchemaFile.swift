import Foundation
import NodeKit

/// dbt's schema.yaml layout: `sources:` (name, schema, tables with an optional identifier) and `models:` (name,
/// config, columns with their `tests:` or `data_tests:`). Column tests: `not_null`, `unique`,
/// `accepted_values` (values, quote) and `relationships` (to: "ref('x')" or "source('s', 't')", field); each may
/// say `config: {severity: warn}`.
extension ModelProject {
    /// A column test read from a schema file, checked once every model is known.
    struct PendingTest: Sendable {
        let kind: String
        let column: String
        let arguments: Setting?
        let warnOnly: Bool
        let file: String
        let line: Int

        func resolve(model: String, models: [String: Model], sources: [String: [String: SourceTable]]) throws -> DataTest {
            func fail(_ message: String) -> Failure { Failure(file: file, line: line, message: message) }
            func argument(_ key: String) -> Setting? { arguments?["arguments"]?[key] ?? arguments?[key] }
            switch kind {
            case "not_null":
                return DataTest(name: "not_null(\(model).\(column))", model: model, check: .notNull(column: column), warnOnly: warnOnly, file: file, line: line, alsoReads: [])
            case "unique":
                return DataTest(name: "unique(\(model).\(column))", model: model, check: .unique(column: column), warnOnly: warnOnly, file: file, line: line, alsoReads: [])
            case "accepted_values":
                guard let list = argument("values")?.list, !list.isEmpty else { throw fail("accepted_values needs values: [a, b]") }
                let values = list.compactMap(\.scalarText)
                var quote = true
                if let setting = argument("quote"), case let .bool(flag) = setting.kind { quote = flag }
                if !quote, let bad = values.first(where: { Double($0) == nil }) {
                    throw fail("accepted_values with quote: false takes numbers, not '\(bad)'")
                }
                return DataTest(name: "accepted_values(\(model).\(column))", model: model, check: .acceptedValues(column: column, values: values, quote: quote),
                                warnOnly: warnOnly, file: file, line: line, alsoReads: [])
            case "relationships":
                guard let to = argument("to")?.scalarText, let field = argument("field")?.scalarText else {
                    throw fail("relationships needs to: \"ref('customers')\" and field: id")
                }
                let template: ModelTemplate
                do { template = try ModelTemplate("{{ \(to) }}") } catch { throw fail("relationships to: \(error.message)") }
                let relation: ModelRelation
                if let ref = template.refs.first {
                    guard models[ref.name] != nil else { throw fail("relationships to: ref('\(ref.name)') names no model") }
                    relation = .model(ref.name)
                } else if let source = template.sources.first {
                    guard sources[source.source]?[source.table] != nil else { throw fail("relationships to: source('\(source.source)', '\(source.table)') is not declared") }
                    relation = .source(source.source, source.table)
                } else {
                    throw fail("relationships to: must be ref('model') or source('source', 'table')")
                }
                let target = switch relation {
                case let .model(name): name
                case let .source(source, table): "\(source).\(table)"
                }
                let reads: [String] = if case let .model(name) = relation, name != model { [name] } else { [] }
                return DataTest(name: "relationships(\(model).\(column) → \(target).\(field))", model: model,
                                check: .relationships(column: column, to: relation, field: field), warnOnly: warnOnly, file: file, line: line, alsoReads: reads)
            default:
                throw fail("unknown test '\(kind)'; tests are not_null, unique, accepted_values and relationships (or a SQL file under tests/)")
            }
        }
    }

    static func readSchema(_ file: ProjectFile, sources: inout [String: [String: SourceTable]],
                           models: inout [String: (config: [String: [String]], tests: [PendingTest], file: String, line: Int)]) throws {
        let text = try read(file)
        let root: Setting
        do { root = try YAMLReader.read(text, file: file.written) } catch {
            throw Failure(file: file.written, line: error.location?.line ?? 1, message: error.message)
        }
        func line(_ setting: Setting?) -> Int { setting?.location?.line ?? 1 }
        func fail(_ setting: Setting?, _ message: String) -> Failure { Failure(file: file.written, line: line(setting), message: message) }
        guard root.entries != nil else { throw fail(root, "a schema file is a mapping with sources: and models:") }
        for source in root["sources"]?.list ?? [] {
            guard let name = source["name"]?.scalarText else { throw fail(source, "a source needs a name") }
            let schema = source["schema"]?.scalarText ?? name
            var tables = sources[name] ?? [:]
            for table in source["tables"]?.list ?? [] {
                guard let tableName = table["name"]?.scalarText ?? table.scalarText else { throw fail(table, "a source table needs a name") }
                tables[tableName] = SourceTable(schema: schema, identifier: table["identifier"]?.scalarText ?? tableName)
            }
            sources[name] = tables
        }
        for model in root["models"]?.list ?? [] {
            guard let name = model["name"]?.scalarText else { throw fail(model, "a model needs a name") }
            if let other = models[name] { throw fail(model, "model '\(name)' is already described in \(other.file) line \(other.line)") }
            var config: [String: [String]] = [:]
            for entry in model["config"]?.entries ?? [] {
                if let list = entry.value.list { config[entry.key] = list.compactMap(\.scalarText) } else if let value = entry.value.scalarText { config[entry.key] = [value] }
            }
            var tests: [PendingTest] = []
            for column in model["columns"]?.list ?? [] {
                guard let columnName = column["name"]?.scalarText else { throw fail(column, "a column needs a name") }
                for test in (column["tests"]?.list ?? []) + (column["data_tests"]?.list ?? []) {
                    if let kind = test.scalarText {
                        tests.append(PendingTest(kind: kind, column: columnName, arguments: nil, warnOnly: false, file: file.written, line: line(test)))
                    } else if let entry = test.entries?.first, test.entries?.count == 1 {
                        let severity = entry.value["config"]?["severity"]?.scalarText ?? entry.value["severity"]?.scalarText ?? "error"
                        guard ["error", "warn"].contains(severity.lowercased()) else { throw fail(entry.value, "severity is error or warn, not '\(severity)'") }
                        tests.append(PendingTest(kind: entry.key, column: columnName, arguments: entry.value, warnOnly: severity.lowercased() == "warn",
                                                 file: file.written, line: entry.keyLocation?.line ?? line(test)))
                    } else {
                        throw fail(test, "a test is a name (not_null) or a mapping with one name (accepted_values: {values: [a, b]})")
                    }
                }
            }
            models[name] = (config, tests, file.written, line(model))
        }
    }

    /// SQL files under the tests folder: each a query whose rows are failures, run after the models it references.
    static func singularTests(_ folder: (resolved: String, written: String), models: [String: Model], order: [String],
                              sources: [String: [String: SourceTable]], checkFile: (String) throws(ConfigError) -> Void) throws -> [DataTest] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.resolved, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        var tests: [DataTest] = []
        for file in try listFiles(folder.resolved, written: folder.written, checkFile: checkFile) where file.relative.hasSuffix(".sql") {
            let text = try read(file)
            let template: ModelTemplate
            do { template = try ModelTemplate(text) } catch { throw Failure(file: file.written, line: error.line, message: error.message) }
            for ref in template.refs where models[ref.name] == nil {
                throw Failure(file: file.written, line: ref.line, message: "ref('\(ref.name)') names no model")
            }
            for source in template.sources where sources[source.source]?[source.table] == nil {
                throw Failure(file: file.written, line: source.line, message: "source('\(source.source)', '\(source.table)') is not declared")
            }
            let reads = Set(template.refs.map(\.name))
            // It checks the model built last among those it reads: that model fails when it fails.
            guard let model = order.last(where: reads.contains) else {
                throw Failure(file: file.written, line: 1, message: "a test must read at least one model with ref()")
            }
            let severity = template.config["severity"]?.first?.lowercased() ?? "error"
            let name = String(file.relative.split(separator: "/").last!.dropLast(4))
            tests.append(DataTest(name: name, model: model, check: .singular(template), warnOnly: severity == "warn", file: file.written, line: 1,
                                  alsoReads: reads.subtracting([model]).sorted()))
        }
        return tests
    }
}
