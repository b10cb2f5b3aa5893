import Yams

/// Reads YAML or JSON text into a located `Setting` tree (JSON is read as YAML, so both give line and column).
///
/// Hostile text is refused before it can exhaust the process: nesting past `YAMLGuard.maximumDepth`
/// (`document_too_deep`), and aliases (`yaml_alias`), whose expansion ("billion laughs") would grow a few
/// hundred bytes into gigabytes. The tree is converted under a budget of one node per byte of text,
/// which only an alias can exceed, so the expansion stops at the size of the text.
public enum YAMLReader {
    public static func read(_ text: String, file: String?) throws(ConfigError) -> Setting {
        let prepared = try YAMLGuard.prepare(text, file: file)
        let node: Node?
        do {
            node = try Yams.compose(yaml: prepared)
        } catch let error as YamlError {
            throw ConfigError(code: "syntax_error", message: describe(error), location: location(of: error, file: file))
        } catch {
            throw ConfigError(code: "syntax_error", message: "\(error)", location: SourceLocation(file: file, line: 1, column: 1))
        }
        guard let node else { throw ConfigError(code: "syntax_error", message: "the document is empty", location: SourceLocation(file: file, line: 1, column: 1)) }
        var budget = prepared.utf8.count + 16
        return try convert(node, file: file, budget: &budget)
    }

    private static func convert(_ node: Node, file: String?, budget: inout Int) throws(ConfigError) -> Setting {
        let loc = node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
        budget -= 1
        guard budget >= 0 else {
            throw ConfigError(code: "yaml_alias", message: "YAML aliases are not supported (this document repeats anchored content by alias)", location: loc)
        }
        switch node {
        case let .scalar(scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal || scalar.style == .folded {
                return Setting(.string(scalar.string), location: loc)
            }
            let text = scalar.string
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return Setting(.null, location: loc)
            case Tag.Name.bool.rawValue: if let b = node.bool { return Setting(.bool(b), location: loc) }
            case Tag.Name.int.rawValue: if let i = Int64(text) { return Setting(.int(i), location: loc) }
            case Tag.Name.float.rawValue: if let d = node.float { return Setting(.double(d), location: loc) }
            default: break
            }
            return Setting(.string(text), location: loc)
        case let .sequence(sequence):
            var items: [Setting] = []
            for item in sequence { items.append(try convert(item, file: file, budget: &budget)) }
            return Setting(.list(items), location: loc)
        case let .mapping(mapping):
            var entries: [Setting.Entry] = []
            var seen = Set<String>()
            for (key, value) in mapping {
                let keyLocation = key.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
                guard let name = key.string else {
                    throw ConfigError(code: "invalid_value", message: "mapping keys must be strings", location: keyLocation)
                }
                guard seen.insert(name).inserted else {
                    throw ConfigError(code: "duplicate_key", message: "key '\(name)' appears twice in this mapping", location: keyLocation)
                }
                entries.append(Setting.Entry(key: name, keyLocation: keyLocation, value: try convert(value, file: file, budget: &budget)))
            }
            return Setting(.map(entries), location: loc)
        case let .alias(alias):
            throw ConfigError(code: "invalid_value", message: "YAML aliases are not supported (*\(alias.anchor))", location: loc)
        }
    }

    private static func location(of error: YamlError, file: String?) -> SourceLocation {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return SourceLocation(file: file, line: mark.line, column: mark.column)
        default:
            return SourceLocation(file: file, line: 1, column: 1)
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _), let .composer(context, problem, _, _):
            return "invalid YAML: \(problem)" + (context.map { " \($0.text)" } ?? "")
        default:
            return "invalid YAML: \(error)"
        }
    }
}
