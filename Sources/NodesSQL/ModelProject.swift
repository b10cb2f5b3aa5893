import Foundation
import NodeKit

/// A folder of SQL models, read and checked as a whole: one model per `*.sql` file (named by the file), the
/// dbt-style `schema.yaml` files beside them (sources, model settings, column tests), and singular tests (SQL
/// files returning failing rows). References, cycles and settings are checked here, before any run, and every
/// mistake names the file and line.
struct ModelProject: Sendable {
    enum Materialization: String, Sendable, CaseIterable {
        case view, table, incremental
    }

    struct Model: Sendable {
        let name: String
        /// The file as the user knows it ("models/staging/stg_orders.sql").
        let file: String
        let template: ModelTemplate
        let materialization: Materialization
        let uniqueKey: [String]
        /// Models it reads (refs), without repeats, in the order written.
        let dependsOn: [String]
    }

    struct SourceTable: Sendable {
        let schema: String
        let identifier: String
    }

    /// A check that must find no failing rows.
    struct DataTest: Sendable {
        enum Check: Sendable {
            case notNull(column: String)
            case unique(column: String)
            case acceptedValues(column: String, values: [String], quote: Bool)
            case relationships(column: String, to: ModelRelation, field: String)
            /// A query returning the failing rows.
            case singular(ModelTemplate)
        }

        let name: String
        /// The model whose result it checks: a failing error test fails that model (and skips what reads it).
        /// When the test also reads models built later, it runs after the last of them and fails that one.
        var model: String
        /// The model whose table the test queries (column tests); `model` unless the test runs later.
        let subject: String
        let check: Check
        let warnOnly: Bool
        let file: String
        let line: Int
        /// Models it reads besides `model`; it runs once they are built.
        var alsoReads: [String]

        init(name: String, model: String, check: Check, warnOnly: Bool, file: String, line: Int, alsoReads: [String]) {
            self.name = name
            self.model = model
            subject = model
            self.check = check
            self.warnOnly = warnOnly
            self.file = file
            self.line = line
            self.alsoReads = alsoReads
        }

        /// Runs after the last model (in build order) it reads.
        mutating func gate(by order: [String]) {
            let reads = Set(alsoReads + [model])
            guard let last = order.last(where: reads.contains), last != model else { return }
            model = last
            alsoReads = reads.subtracting([last]).sorted()
        }
    }

    /// A mistake in the project, at a file and line.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let file: String
        let line: Int
        let message: String
        var description: String { "\(file) line \(line): \(message)" }
    }

    static let maximumFiles = 5000
    static let maximumFileBytes = 1 << 20
    /// All files of a project together: reading it (on every validation in the editor) stays cheap.
    static let maximumProjectBytes = 32 << 20

    let models: [String: Model]
    /// Every model, dependencies first (ties by name).
    let order: [String]
    let sources: [String: [String: SourceTable]]
    let tests: [DataTest]

    /// Reads the project under `folder` (resolved), naming files relative to `written` (the folder as the user
    /// wrote it); singular tests come from `testsFolder` when given.
    static func load(folder: String, written: String, testsFolder: (resolved: String, written: String)?,
                     checkFile: (String) throws(ConfigError) -> Void) throws -> ModelProject {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(file: written, line: 1, message: "there is no folder '\(written)'")
        }
        let files = try listFiles(folder, written: written, checkFile: checkFile)
        var sources: [String: [String: SourceTable]] = [:]
        var declared: [String: (config: [String: [String]], tests: [PendingTest], file: String, line: Int)] = [:]
        for file in files where file.relative.hasSuffix(".yml") || file.relative.hasSuffix(".yaml") {
            try readSchema(file, sources: &sources, models: &declared)
        }
        var models: [String: Model] = [:]
        for file in files where file.relative.hasSuffix(".sql") {
            let name = String(file.relative.split(separator: "/").last!.dropLast(4))
            if let other = models[name] {
                throw Failure(file: file.written, line: 1, message: "a model named '\(name)' is already defined in \(other.file); model names must be unique")
            }
            let text = try read(file)
            let template: ModelTemplate
            do { template = try ModelTemplate(text) } catch { throw Failure(file: file.written, line: error.line, message: error.message) }
            var config = headerConfig(text)
            for (key, value) in declared[name]?.config ?? [:] where config[key] == nil { config[key] = value }
            for (key, value) in template.config { config[key] = value }
            let materialized = config["materialized"]?.first ?? "view"
            guard let materialization = Materialization(rawValue: materialized) else {
                throw Failure(file: file.written, line: 1, message: "materialized is '\(materialized)'; it must be view, table or incremental")
            }
            let uniqueKey = (config["unique_key"] ?? []).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            var seen = Set<String>()
            let dependsOn = template.refs.map(\.name).filter { seen.insert($0).inserted }
            models[name] = Model(name: name, file: file.written, template: template, materialization: materialization, uniqueKey: uniqueKey, dependsOn: dependsOn)
        }
        // References and sources must exist.
        for model in models.values {
            for ref in model.template.refs where models[ref.name] == nil {
                throw Failure(file: model.file, line: ref.line, message: "ref('\(ref.name)') names no model; the models are: \(models.keys.sorted().joined(separator: ", "))")
            }
            for source in model.template.sources where sources[source.source]?[source.table] == nil {
                throw Failure(file: model.file, line: source.line,
                              message: "source('\(source.source)', '\(source.table)') is not declared; declare it under sources: in a schema.yaml in \(written)")
            }
        }
        for (name, entry) in declared where models[name] == nil {
            throw Failure(file: entry.file, line: entry.line, message: "models: '\(name)' has no \(name).sql file in \(written)")
        }
        let order = try topologicalOrder(models)
        var tests: [DataTest] = []
        for (name, entry) in declared.sorted(by: { $0.key < $1.key }) {
            for pending in entry.tests { tests.append(try pending.resolve(model: name, models: models, sources: sources)) }
        }
        if let testsFolder {
            tests += try singularTests(testsFolder, models: models, order: order, sources: sources, checkFile: checkFile)
        }
        for index in tests.indices { tests[index].gate(by: order) }
        return ModelProject(models: models, order: order, sources: sources, tests: tests)
    }

    // MARK: Selection

    /// The models `selectors` name (`name`, `+name` with its upstream, `name+` with its downstream); every model
    /// when there are none.
    func select(_ selectors: [String]) throws(ConfigError) -> Set<String> {
        guard !selectors.isEmpty else { return Set(models.keys) }
        var chosen = Set<String>()
        for selector in selectors {
            var name = Substring(selector.trimmingCharacters(in: .whitespaces))
            let up = name.hasPrefix("+")
            let down = name.hasSuffix("+")
            if up { name = name.dropFirst() }
            if down { name = name.dropLast() }
            guard models[String(name)] != nil else {
                throw ConfigError(code: "unknown_model", message: "select names '\(name)', which is not a model", field: "select",
                                  expected: "one of: \(models.keys.sorted().joined(separator: ", "))")
            }
            chosen.insert(String(name))
            if up { chosen.formUnion(upstream(of: String(name))) }
            if down { chosen.formUnion(downstream(of: String(name))) }
        }
        return chosen
    }

    func upstream(of name: String) -> Set<String> {
        var found = Set<String>()
        var pending = models[name]?.dependsOn ?? []
        while let next = pending.popLast() {
            if found.insert(next).inserted { pending += models[next]?.dependsOn ?? [] }
        }
        return found
    }

    func downstream(of name: String) -> Set<String> {
        var found = Set<String>()
        var pending = [name]
        while let next = pending.popLast() {
            for model in models.values where model.dependsOn.contains(next) && found.insert(model.name).inserted { pending.append(model.name) }
        }
        return found
    }

    // MARK: Reading

    struct ProjectFile {
        let path: String
        /// Relative to the project folder.
        let relative: String
        /// As the user knows it.
        let written: String
    }

    static func listFiles(_ folder: String, written: String, checkFile: (String) throws(ConfigError) -> Void) throws -> [ProjectFile] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [ProjectFile] = []
        var bytes = 0
        let prefix = written.hasSuffix("/") ? written : written + "/"
        while let relative = enumerator.nextObject() as? String {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            if name.hasPrefix(".") { enumerator.skipDescendants(); continue }
            guard relative.hasSuffix(".sql") || relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") else { continue }
            let path = folder + "/" + relative
            try checkFile(path)
            bytes += (enumerator.fileAttributes?[.size] as? Int) ?? 0
            if bytes > maximumProjectBytes { throw Failure(file: written, line: 1, message: "the files add up to more than 32 MB; split the project") }
            files.append(ProjectFile(path: path, relative: relative, written: prefix + relative))
            if files.count > maximumFiles { throw Failure(file: written, line: 1, message: "more than \(maximumFiles) files; split the project") }
        }
        return files.sorted { $0.relative < $1.relative }
    }

    static func read(_ file: ProjectFile) throws -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        if let size = attributes?[.size] as? Int, size > maximumFileBytes {
            throw Failure(file: file.written, line: 1, message: "the file is larger than 1 MB")
        }
        guard let text = try? String(contentsOfFile: file.path, encoding: .utf8) else {
            throw Failure(file: file.written, line: 1, message: "cannot read the file as UTF-8 text")
        }
        return text
    }

    /// `-- materialized: table` and `-- unique_key: id` lines at the top of a model.
    static func headerConfig(_ text: String) -> [String: [String]] {
        var config: [String: [String]] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard trimmed.hasPrefix("--") else { break }
            let body = trimmed.dropFirst(2)
            guard let colon = body.firstIndex(of: ":") else { continue }
            let key = body[..<colon].trimmingCharacters(in: .whitespaces)
            guard ["materialized", "unique_key"].contains(key) else { continue }
            config[key] = [body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)]
        }
        return config
    }

    /// Models in dependency order; a cycle is an error naming the models on it and the line of the closing ref.
    static func topologicalOrder(_ models: [String: Model]) throws(Failure) -> [String] {
        var order: [String] = []
        var state: [String: Int] = [:] // 1 visiting, 2 done
        func visit(_ name: String, _ path: [String]) throws(Failure) {
            if state[name] == 2 { return }
            if state[name] == 1 {
                let cycle = Array(path[path.firstIndex(of: name)!...]) + [name]
                let closing = models[path.last!]!
                let line = closing.template.refs.first { $0.name == name }?.line ?? 1
                throw Failure(file: closing.file, line: line, message: "the models form a cycle: \(cycle.joined(separator: " → "))")
            }
            state[name] = 1
            for dependency in models[name]!.dependsOn.sorted() { try visit(dependency, path + [name]) }
            state[name] = 2
            order.append(name)
        }
        for name in models.keys.sorted() { try visit(name, []) }
        return order
    }
}
