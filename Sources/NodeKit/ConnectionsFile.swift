import Foundation

/// Reads `connections.yaml`: a mapping from connection names to `{type: …, …settings}`.
///
/// Any string value may be `${env:NAME}` or `${file:PATH}` (whole value); fields the connection type
/// declares secret become `Secret`s whatever their form. Every problem is reported with its location,
/// and no message ever contains a secret.
public enum ConnectionsFile {
    public static func load(path: String, specs: [ConnectionSpec], environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigErrors) -> ConnectionCatalog {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigErrors([ConfigError(code: "file_not_found", message: "cannot read connections file '\(path)'")])
        }
        return try parse(text, file: path, specs: specs, environment: environment)
    }

    /// Parses connections. With `resolveReferences: false` (connections stored by the server) values are taken
    /// literally, so a stored value cannot read the server's environment or files.
    public static func parse(_ text: String, file: String?, specs: [ConnectionSpec], environment: [String: String],
                             resolveReferences: Bool = true) throws(ConfigErrors) -> ConnectionCatalog {
        let root: Setting
        do { root = try YAMLReader.read(text, file: file) } catch { throw ConfigErrors([error]) }
        guard let entries = root.entries else {
            throw ConfigErrors([ConfigError(code: "invalid_value", message: "a connections file is a mapping of names to connections", location: root.location)])
        }
        let base = file.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."
        var errors: [ConfigError] = []
        var connections: [Connection] = []
        for entry in entries {
            let subject = "connection '\(entry.key)'"
            guard let fields = entry.value.entries else {
                errors.append(ConfigError(code: "invalid_value", message: "\(subject) must be a mapping with a 'type'", location: entry.value.location, field: entry.key))
                continue
            }
            guard let type = entry.value["type"]?.scalarText else {
                errors.append(ConfigError(code: "missing_field", message: "\(subject) needs a 'type'", location: entry.value.location, field: "\(entry.key).type",
                                          expected: specs.map(\.type).joined(separator: ", ")))
                continue
            }
            guard let spec = specs.first(where: { $0.type == type }) else {
                errors.append(ConfigError(code: "unknown_connection_type", message: "\(subject) has unknown type '\(type)'", location: entry.value["type"]?.location,
                                          field: "\(entry.key).type", expected: specs.map(\.type).joined(separator: ", ")))
                continue
            }
            var plain: [Setting.Entry] = []
            var secrets: [String: Secret] = [:]
            let allowed = spec.fields.map(\.name)
            for field in fields where field.key != "type" {
                guard allowed.contains(field.key) else {
                    errors.append(ConfigError(code: "unknown_key", message: "\(type) connections have no setting '\(field.key)'", location: field.keyLocation,
                                              field: "\(entry.key).\(field.key)", expected: "one of: \(allowed.joined(separator: ", "))"))
                    continue
                }
                var value = field.value
                if resolveReferences, let text = field.value.scalarText, case .string = field.value.kind, text.hasPrefix("${"), text.hasSuffix("}") {
                    do { value = Setting(.string(try resolve(text, base: base, environment: environment)), location: field.value.location) } catch {
                        errors.append(ConfigError(code: "unresolved_reference", message: "\(subject), field '\(field.key)': \(error.message)",
                                                  location: field.value.location, field: "\(entry.key).\(field.key)"))
                        continue
                    }
                }
                if spec.secretFields.contains(field.key) {
                    secrets[field.key] = Secret(value.scalarText ?? "")
                } else {
                    plain.append(Setting.Entry(key: field.key, keyLocation: field.keyLocation, value: value))
                }
            }
            for field in spec.fields where field.isRequired && fields.first(where: { $0.key == field.name }) == nil {
                errors.append(ConfigError(code: "missing_field", message: "\(subject) needs '\(field.name)': \(field.summary)", location: entry.value.location,
                                          field: "\(entry.key).\(field.name)", expected: field.kind.description))
            }
            connections.append(Connection(name: entry.key, type: type, settings: Setting(.map(plain), location: entry.value.location),
                                          secrets: secrets, location: entry.keyLocation))
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return ConnectionCatalog(connections, source: file)
    }

    struct ReferenceError: Error {
        let message: String
    }

    /// `${env:NAME}` or `${file:PATH}` (relative to the connections file); the file's trailing newline is dropped.
    static func resolve(_ text: String, base: String, environment: [String: String]) throws(ReferenceError) -> String {
        let inner = text.dropFirst(2).dropLast()
        if inner.hasPrefix("env:") {
            let name = String(inner.dropFirst(4))
            guard let value = environment[name] else { throw ReferenceError(message: "environment variable \(name) is not set") }
            return value
        }
        if inner.hasPrefix("file:") {
            var path = String(inner.dropFirst(5))
            if !path.hasPrefix("/") { path = base + "/" + path }
            guard let data = FileManager.default.contents(atPath: path) else { throw ReferenceError(message: "cannot read file '\(path)'") }
            var value = String(decoding: data, as: UTF8.self)
            while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
            return value
        }
        throw ReferenceError(message: "'\(text)' is not ${env:NAME} or ${file:PATH}")
    }
}
