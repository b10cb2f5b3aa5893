import BuiltinNodes
import Columnar
import Expressions
import Foundation
import NodeKit

/// What `sluice discover` shows for a file connection: the files a glob matches (path, size, modified) and, for the
/// first CSV and JSON Lines files, the schema their read node infers from a sample (planned exactly as a run would).
struct FileDiscovery {
    let catalog: ConnectionCatalog
    let connection: String
    let pattern: String

    /// Files listed in full, then "… and N more".
    static let listed = 1_000
    /// Files whose schema is inferred.
    static let sampled = 3

    func print(json: Bool) async throws {
        let settings = Self.readSettings(connection: connection, path: pattern, catalog: catalog)
        let files: [StoredFile]
        do {
            let location = try settings.fileLocation(path: Field<String>("path", summary: ""), connection: Field<ConnectionName?>("connection", summary: ""))
            files = try await location.store.list(location.path)
        } catch {
            Terminal.error("listing failed: \(error)")
            throw ExitStatus.failed
        }
        var schemas: [(String, Result<Schema, ConfigError>)] = []
        for file in files.filter({ Self.readNode(for: $0.path) != nil }).prefix(Self.sampled) {
            schemas.append((file.path, await Self.schema(of: file.path, connection: connection, catalog: catalog)))
        }
        if json {
            Swift.print(Self.json(files: files, schemas: schemas))
            return
        }
        if files.isEmpty { Swift.print("no file matches '\(pattern)'") }
        let width = min(60, files.prefix(Self.listed).map(\.path.count).max() ?? 0)
        for file in files.prefix(Self.listed) {
            let size = file.size.map { ByteCount.describe(ByteCount(Int($0))) } ?? "?"
            let modified = file.modified.map { CivilTime.formatTimestamp(micros: $0 * 1000) } ?? ""
            Swift.print("\(file.path.padding(toLength: max(width, file.path.count), withPad: " ", startingAt: 0))  \(size.padding(toLength: 9, withPad: " ", startingAt: 0))  \(modified)")
        }
        if files.count > Self.listed { Swift.print("… and \(files.count - Self.listed) more") }
        for (path, result) in schemas {
            Swift.print("\n\(path):")
            switch result {
            case let .success(schema):
                let nameWidth = schema.names.map(\.count).max() ?? 0
                for field in schema.fields { Swift.print("  \(field.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(field.type)") }
            case let .failure(error):
                Swift.print("  cannot infer a schema: \(error.message)")
            }
        }
    }

    /// The read node for a file name (`.gz` looked through), or nil for other files.
    static func readNode(for path: String) -> String? {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".csv") || name.hasSuffix(".tsv") { return "csv.read" }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return "jsonl.read" }
        return nil
    }

    static func readSettings(connection: String, path: String, catalog: ConnectionCatalog) -> Settings {
        let raw = Setting(.map([Setting.Entry(key: "connection", keyLocation: nil, value: Setting(.string(connection))),
                                Setting.Entry(key: "path", keyLocation: nil, value: Setting(.string(path)))] +
                               (path.lowercased().hasSuffix(".tsv") || path.lowercased().hasSuffix(".tsv.gz")
                                   ? [Setting.Entry(key: "delimiter", keyLocation: nil, value: Setting(.string("tab")))] : [])))
        return Settings(node: "discover", raw: raw, connections: catalog, connectors: BuiltinNodes.connectors)
    }

    /// The schema the file's read node plans, as a run would see it.
    static func schema(of path: String, connection: String, catalog: ConnectionCatalog) async -> Result<Schema, ConfigError> {
        guard let id = readNode(for: path), let type = BuiltinNodes.registry.resolve(NodeTypeReference(name: id, version: nil)) else {
            return .failure(ConfigError(code: "unsupported", message: "not a CSV or JSON Lines file"))
        }
        do {
            let node = try type.init(settings: readSettings(connection: connection, path: path, catalog: catalog))
            let plan = try await node.plan(PlanRequest(node: "discover", inputs: [:], environment: ExpressionEnvironment(parameters: [:], now: 0), projection: nil))
            return .success(plan.outputs["out"] ?? Schema([]))
        } catch {
            return .failure(error)
        }
    }

    static func json(files: [StoredFile], schemas: [(String, Result<Schema, ConfigError>)]) -> String {
        let list = files.map { file in
            "{\"path\":\(JSONText.quoted(file.path)),\"size\":\(file.size.map(String.init) ?? "null"),\"modified\":\(file.modified.map(String.init) ?? "null")}"
        }
        let inferred = schemas.map { path, result in
            switch result {
            case let .success(schema):
                let columns = schema.fields.map { "{\"name\":\(JSONText.quoted($0.name)),\"type\":\(JSONText.quoted("\($0.type)"))}" }
                return "{\"path\":\(JSONText.quoted(path)),\"columns\":[\(columns.joined(separator: ","))]}"
            case let .failure(error):
                return "{\"path\":\(JSONText.quoted(path)),\"error\":\(JSONText.quoted(error.message))}"
            }
        }
        return "{\"files\":[\(list.joined(separator: ","))],\"schemas\":[\(inferred.joined(separator: ","))]}"
    }
}
