/// The parameter values a run was asked for, as text by name (`--param since=2024-01-01`, the API's
/// `parameters`, a trigger's templates); typed against the document's declarations when it is compiled.
/// Stored with a run as a JSON object of strings, read back strictly.
public struct RunParameters: Sendable, Hashable {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// From command-line pairs `name=value` (the value may itself hold `=`).
    public init(pairs: [String]) throws(ConfigErrors) {
        var values: [String: String] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ConfigErrors([ConfigError(code: "invalid_value", message: "--param '\(pair)' must look like name=value", field: "param")])
            }
            values[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        self.values = values
    }

    /// From the JSON object a run stores; anything but an object of strings is an error, never an empty set.
    public init(jsonText: String) throws(ConfigErrors) {
        let root: Setting
        do { root = try YAMLReader.read(jsonText, file: "run parameters") } catch { throw ConfigErrors([error]) }
        guard case let .map(entries) = root.kind else {
            throw ConfigErrors([ConfigError(code: "invalid_value", message: "run parameters must be a JSON object, not \(jsonText.prefix(80))", field: "parameters")])
        }
        var values: [String: String] = [:]
        for entry in entries {
            guard let text = entry.value.scalarText else {
                throw ConfigErrors([ConfigError(code: "invalid_value", message: "run parameter '\(entry.key)' must be text", field: "parameters.\(entry.key)")])
            }
            values[entry.key] = text
        }
        self.values = values
    }

    /// The JSON object stored with a run (keys sorted).
    public var jsonText: String {
        "{" + values.keys.sorted().map { key in JSONText.quoted(key) + ":" + JSONText.quoted(values[key]!) }.joined(separator: ",") + "}"
    }
}

/// Where a compile finds the connections a document names: a connections file (standalone runs) or the
/// server's store acting as a user, who may use only the connections they own or that are shared with them.
public protocol ConnectionResolver: Sendable {
    /// The catalog holding (at least) the named connections; throws when the acting user may not use one.
    func catalog(for names: Set<String>) async throws -> ConnectionCatalog
}

extension ConnectionCatalog: ConnectionResolver {
    public func catalog(for names: Set<String>) async throws -> ConnectionCatalog { self }
}

extension PipelineDocument {
    /// The connection names its nodes refer to (their `connection` settings).
    public var connectionNames: Set<String> {
        Set(nodes.compactMap { $0.settings["connection"]?.scalarText })
    }
}
