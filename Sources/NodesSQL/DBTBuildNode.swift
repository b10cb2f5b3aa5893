import Foundation
public import NodeKit

/// Runs real dbt (`dbt build`) on a project folder in the workspace, against a stored connection: the profile is
/// generated from the connection (its secrets passed through the environment, never written), dbt's events are
/// reported as steps live, and each model and test in `run_results.json` is a step of the run, like native models.
/// dbt is taken from the server's PATH (`pip install dbt-postgres`); the node says so when it is missing.
public struct DBTBuildNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "The database dbt builds in (a postgres connection).", example: "warehouse")
    static let project = Field<FilePath>("project", summary: "The dbt project folder (with dbt_project.yml), in the workspace.", example: "dbt/shop")
    static let schema = Field<String>("schema", summary: "The target schema dbt builds in.", default: "public")
    static let select = Field<[String]>("select", summary: "dbt --select: model names and selectors (+name, name+, tag:x). Default: everything.", default: [])
    static let vars = Field<NamedValues<String>>("vars", summary: "dbt --vars, as text values.", default: NamedValues())
    static let target = Field<String>("target", summary: "The target name in the generated profile (what {{ target.name }} says).", default: "sluice")
    static let threads = Field<Int>("threads", summary: "dbt threads.", default: 4)
    static let fullRefresh = Field<Bool>("fullRefresh", summary: "dbt --full-refresh: rebuild incremental models.", default: false)

    public static let spec = NodeSpec(
        id: "dbt.build", version: 1, category: .utility, title: "dbt build",
        summary: "Runs dbt build on a dbt project against a stored connection; each model and test is a step of the run.",
        inputs: [], outputs: [], fields: [connection.spec, project.spec, schema.spec, select.spec, vars.spec, target.spec, threads.spec, fullRefresh.spec],
        capabilities: [.immediateDelivery], icon: "package")

    let settings: Settings
    let profile: DBTProfile
    let projectFolder: String
    let projectName: String
    let selectors: [String]
    let vars: [(name: String, value: String)]
    let target: String
    let threads: Int
    let fullRefresh: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        let (connection, connector) = try settings.connection(Self.connection, offering: (any DBTProfiling.Type).self, refusal: "dbt cannot use")
        threads = try settings[Self.threads]
        guard (1...32).contains(threads) else { throw settings.error(Self.threads, "threads is 1 to 32") }
        profile = try connector.dbtProfile(connection, schema: try settings[Self.schema], threads: threads)
        let written = try settings[Self.project].text
        do { projectFolder = try settings.files.resolve(written) } catch {
            throw error.at(node: settings.node, field: Self.project.name, location: settings.location(of: Self.project))
        }
        guard let projectFile = try? String(contentsOfFile: projectFolder + "/dbt_project.yml", encoding: .utf8) else {
            throw settings.error(Self.project, "'\(written)' has no dbt_project.yml", code: "file_not_found")
        }
        let declared: Setting
        do { declared = try YAMLReader.read(projectFile, file: written + "/dbt_project.yml") } catch { throw error.at(node: settings.node, field: Self.project.name) }
        guard let profileName = declared["profile"]?.scalarText ?? declared["name"]?.scalarText else {
            throw settings.error(Self.project, "dbt_project.yml names no profile")
        }
        projectName = profileName
        // The project's own folders must stay inside it: dbt would read models, macros or seeds from anywhere.
        for entry in declared.entries ?? [] where entry.key.hasSuffix("-paths") || entry.key.hasSuffix("-path") {
            for value in (entry.value.list ?? [entry.value]).compactMap(\.scalarText) {
                if value.hasPrefix("/") || value.hasPrefix("~") || value.split(separator: "/").contains("..") {
                    throw ConfigError(code: "path_outside_workspace", message: "dbt_project.yml: \(entry.key) '\(value)' leaves the project folder",
                                      location: entry.value.location, node: settings.node, field: Self.project.name)
                }
            }
        }
        try settings.checkFiles(Self.files(in: projectFolder), for: Self.project)
        selectors = try settings[Self.select]
        if let option = selectors.first(where: { $0.hasPrefix("-") }) {
            throw settings.error(Self.select, "'\(option)' is not a selector (options cannot be passed through select)")
        }
        vars = try settings[Self.vars].entries.map { ($0.name, $0.value) }
        target = try settings[Self.target]
        guard target.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !target.isEmpty else { throw settings.error(Self.target, "a target name is letters, digits and _") }
        fullRefresh = try settings[Self.fullRefresh]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: [:], work: Work(node: self))
    }

    /// Every file in the project (at most 20,000), so links leading out of the workspace are refused.
    static func files(in folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String, files.count < 20_000 { files.append(folder + "/" + relative) }
        return files
    }

    /// profiles.yml for the project's profile, with one output: the connection.
    var profilesYAML: String {
        var lines = ["\(JSONText.quoted(projectName)):", "  target: \(target)", "  outputs:", "    \(target):"]
        for field in profile.fields {
            lines.append("      \(field.name): " + (Int(field.value) != nil ? field.value : JSONText.quoted(field.value)))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    struct Work: NodeWork {
        let node: DBTBuildNode

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            if context.isPreview {
                context.log(.info, "dbt build is not run in a preview")
                return nil
            }
            guard let dbt = DBTProcess.locate() else {
                throw NodeError(code: "dbt_missing", message: "dbt is not installed on this server: install it with 'pip install dbt-postgres' so that 'dbt' is on the PATH")
            }
            let folder = FileManager.default.temporaryDirectory.path + "/sluice-dbt-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try node.profilesYAML.write(toFile: folder + "/profiles.yml", atomically: true, encoding: .utf8)
            var arguments = ["build", "--project-dir", node.projectFolder, "--profiles-dir", folder, "--target", node.target, "--target-path", folder + "/target",
                             "--log-path", folder + "/logs", "--log-format", "json", "--no-version-check", "--threads", String(node.threads)]
            if !node.selectors.isEmpty { arguments += ["--select"] + node.selectors }
            if !node.vars.isEmpty { arguments += ["--vars", JSONText.object(node.vars.map { ($0.name, .string($0.value)) })] }
            if node.fullRefresh { arguments.append("--full-refresh") }
            // Only what dbt needs: never the server's own environment (a project's env_var() could read it).
            var environment = node.profile.environment
            environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? folder // pip install --user puts dbt under HOME
            environment["LANG"] = "C.UTF-8"
            environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
            environment["PYTHONUNBUFFERED"] = "1"
            if let pyenv = ProcessInfo.processInfo.environment["PYENV_ROOT"] { environment["PYENV_ROOT"] = pyenv }
            let kinds = KindMemory()
            let (status, stderr) = try await DBTProcess(executable: dbt, arguments: arguments, environment: environment, folder: folder).run { line in
                switch DBTResults.event(line) {
                case let .step(step)?:
                    kinds.remember(step)
                    context.reportStep(step)
                case let .log(level, message)?:
                    if level == .error { kinds.lastError = message }
                    context.log(level, message)
                case nil: break
                }
            }
            let steps = DBTResults.steps(runResults: folder + "/target/run_results.json", kinds: kinds.all)
            for step in steps { context.reportStep(step) }
            let failed = steps.filter { $0.status == .failed }.map(\.name)
            context.log(.info, "dbt build: \(steps.filter { $0.status == .succeeded }.count) succeeded, \(steps.filter { $0.status == .warned }.count) warned, "
                        + "\(failed.count) failed, \(steps.filter { $0.status == .skipped }.count) skipped")
            if status != 0 {
                if !failed.isEmpty {
                    throw NodeError(code: "model_failed", message: "dbt build failed: \(failed.count) of \(steps.count) failed (\(failed.joined(separator: ", ")))")
                }
                throw NodeError(code: "dbt_failed", message: "dbt exited with status \(status)", cause: kinds.lastError ?? (stderr.isEmpty ? nil : stderr))
            }
            return nil
        }
    }
}

/// The kind of each step dbt announced (its materialization), for the final steps read from run_results.json, and
/// the last error it reported.
final class KindMemory: @unchecked Sendable {
    private let lock = NSLock()
    private var kinds: [String: String] = [:]
    private var error: String?

    /// The last error dbt reported.
    var lastError: String? {
        get { lock.withLock { error } }
        set { lock.withLock { error = newValue } }
    }

    func remember(_ step: NodeStep) { lock.withLock { kinds[step.name] = step.kind } }
    var all: [String: String] { lock.withLock { kinds } }
}
