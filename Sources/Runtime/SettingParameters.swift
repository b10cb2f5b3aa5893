import Columnar
import NodeKit

/// Run parameters in plain settings: `${name}` inside a text setting (a path, a table name, a URL) is replaced
/// by the parameter's value as text before the node reads its settings, so a file trigger's path or a mail
/// attachment reaches `csv.read` as `path: "${file}"`. Expression settings are left alone: expressions read
/// parameters themselves, typed.
enum SettingParameters {
    static func substitute(_ settings: Setting, spec: NodeSpec, parameters: [String: Value], node: String) throws(ConfigError) -> Setting {
        guard let entries = settings.entries else { return settings }
        var changed: [Setting.Entry] = []
        for entry in entries {
            let kind = spec.fields.first { $0.name == entry.key }?.kind
            if let kind, holdsExpressions(kind) { changed.append(entry); continue }
            let value = try substitute(entry.value, parameters: parameters, node: node, field: entry.key)
            changed.append(Setting.Entry(key: entry.key, keyLocation: entry.keyLocation, value: value))
        }
        return Setting(.map(changed), location: settings.location)
    }

    static func holdsExpressions(_ kind: FieldKind) -> Bool {
        switch kind {
        case .expression: true
        case let .list(inner), let .map(inner): holdsExpressions(inner)
        default: false
        }
    }

    private static func substitute(_ setting: Setting, parameters: [String: Value], node: String, field: String) throws(ConfigError) -> Setting {
        switch setting.kind {
        case let .string(text) where text.contains("${"):
            return Setting(.string(try render(text, parameters: parameters, node: node, field: field, setting: setting)), location: setting.location)
        case let .list(items):
            var result: [Setting] = []
            for item in items { result.append(try substitute(item, parameters: parameters, node: node, field: field)) }
            return Setting(.list(result), location: setting.location)
        case let .map(entries):
            var result: [Setting.Entry] = []
            for entry in entries {
                result.append(Setting.Entry(key: entry.key, keyLocation: entry.keyLocation,
                                            value: try substitute(entry.value, parameters: parameters, node: node, field: field + "." + entry.key)))
            }
            return Setting(.map(result), location: setting.location)
        default:
            return setting
        }
    }

    private static func render(_ text: String, parameters: [String: Value], node: String, field: String, setting: Setting) throws(ConfigError) -> String {
        var output = "", rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigError(code: "invalid_value", message: "unclosed '${' in setting '\(field)'", location: setting.location, node: node, field: field)
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = parameters[name] else {
                let known = parameters.keys.sorted()
                throw ConfigError(code: "unknown_parameter", message: "setting '\(field)' uses ${\(name)}, which is not a parameter of this pipeline",
                                  location: setting.location, node: node, field: field,
                                  expected: known.isEmpty ? "a parameter declared under 'parameters:'" : "one of: \(known.joined(separator: ", "))")
            }
            output += value == .null ? "" : value.description
            rest = rest[rest.index(after: end)...]
        }
        return output + rest
    }
}
