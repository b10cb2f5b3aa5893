import Foundation
public import NodeKit

/// Builds a folder of SQL models in a database, dbt style: each `*.sql` file is one `SELECT`, `{{ ref('x') }}`
/// and `{{ source('s', 't') }}` make the dependency graph, a header or `{{ config() }}` chooses view, table or
/// incremental, and schema.yaml files declare sources and column tests. Models run in dependency order,
/// independent ones in parallel; each model and test is a step of the run, live on the run page.
public struct SQLModelsNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "The database the models are built in (postgres or sqlite).", example: "warehouse")
    static let path = Field<FilePath>("path", summary: "The folder of models (*.sql, one SELECT each) and schema.yaml files, in the workspace.", example: "models")
    static let schema = Field<String?>("schema", summary: "PostgreSQL: the schema models are built in (created if missing; default public). SQLite has none.",
                                       example: "analytics")
    static let select = Field<[String]>("select", summary: "Models to build: name, +name (with what it reads), name+ (with what reads it). Default: all.",
                                        default: [])
    static let tests = Field<FilePath?>("tests", summary: "A folder of singular tests (SQL files returning failing rows). Default: a tests folder beside path, when there is one.")
    static let vars = Field<NamedValues<String>>("vars", summary: "Values for {{ var('name') }} in the models (text, inserted as written).", default: NamedValues())
    static let threads = Field<Int>("threads", summary: "How many models build at once (PostgreSQL; SQLite builds one at a time).", default: 4)
    static let fullRefresh = Field<Bool>("fullRefresh", summary: "Rebuild incremental models from scratch instead of merging new rows.", default: false)

    public static let spec = NodeSpec(
        id: "sql.models", version: 1, category: .utility, title: "SQL models",
        summary: "Builds a folder of SQL models (views, tables, incremental merges) in dependency order and runs their data tests, dbt style.",
        inputs: [], outputs: [], fields: [connection.spec, path.spec, schema.spec, select.spec, tests.spec, vars.spec, threads.spec, fullRefresh.spec],
        capabilities: [.immediateDelivery], icon: "layers")

    let settings: Settings
    let connection: Connection
    let connector: any SQLRunning.Type
    let project: ModelProject
    let selected: Set<String>
    let schema: String?
    let vars: [String: String]
    let threads: Int
    let fullRefresh: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        (connection, connector) = try settings.sqlConnection(Self.connection)
        let written = try settings[Self.path].text
        let folder: String
        do { folder = try settings.files.resolve(written) } catch { throw error.at(node: settings.node, field: Self.path.name, location: settings.location(of: Self.path)) }
        var testsFolder: (resolved: String, written: String)?
        if let tests = try settings[Self.tests] {
            do { testsFolder = (try settings.files.resolve(tests.text), tests.text) } catch {
                throw error.at(node: settings.node, field: Self.tests.name, location: settings.location(of: Self.tests))
            }
        } else {
            // The default is a tests folder beside the models, when that place is in the workspace and not inside
            // the models folder (models at the workspace's root, `path: .`, have none).
            let writtenParent = PathText.parent(written)
            let candidate = writtenParent.isEmpty || writtenParent == "." ? "tests" : writtenParent + "/tests"
            if PathText.lastComponent(written) != ".", let resolved = try? settings.files.resolve(candidate),
               resolved != folder, !resolved.hasPrefix(folder + "/") {
                testsFolder = (resolved, candidate)
            }
        }
        let files = settings.files
        do {
            project = try ModelProject.load(folder: folder, written: written, testsFolder: testsFolder) { path throws(ConfigError) in try files.check(path) }
        } catch let failure as ModelProject.Failure {
            throw ConfigError(code: "invalid_model", message: failure.message, location: SourceLocation(file: failure.file, line: failure.line, column: 1),
                              node: settings.node, field: Self.path.name)
        } catch let error as ConfigError {
            throw error.at(node: settings.node, field: Self.path.name, location: settings.location(of: Self.path))
        } catch {
            throw settings.error(Self.path, "\(error)")
        }
        do { selected = try project.select(try settings[Self.select]) } catch { throw error.at(node: settings.node, field: Self.select.name, location: settings.location(of: Self.select)) }
        schema = try settings[Self.schema]
        vars = Dictionary(try settings[Self.vars].entries.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        threads = try settings[Self.threads]
        guard (1...32).contains(threads) else { throw settings.error(Self.threads, "threads is 1 to 32") }
        fullRefresh = try settings[Self.fullRefresh]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: [:], work: Work(node: self))
    }

    struct Work: NodeWork {
        let node: SQLModelsNode

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            let models = node.project.order.filter(node.selected.contains)
            if context.isPreview {
                context.log(.info, "\(models.count) model(s) not built in a preview")
                return nil
            }
            let runner = ModelRunner(project: node.project, selected: node.selected, schema: node.schema, vars: node.vars, threads: node.threads,
                                     fullRefresh: node.fullRefresh, connector: node.connector, connection: node.connection, context: context)
            try await runner.run()
            return nil
        }
    }
}
