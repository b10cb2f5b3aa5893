import Columnar

/// Renders node specs as reference documentation (Markdown) and as JSON for the UI.
public enum NodeCatalog {
    /// One Markdown page per node type, keyed by file name, plus `README.md` as the index.
    public static func markdownPages(_ specs: [NodeSpec]) -> [String: String] {
        var pages: [String: String] = [:]
        let sorted = specs.sorted { ($0.category.rawValue, $0.id) < ($1.category.rawValue, $1.id) }
        var index = "# Node reference\n\nGenerated from the node specs by `sluice nodes --markdown docs/nodes`. Do not edit by hand.\n\n"
        index += "| node | category | summary |\n|---|---|---|\n"
        for spec in sorted {
            let file = "\(spec.id).md"
            index += "| [`\(spec.reference)`](\(file)) | \(spec.category.rawValue) | \(escape(spec.summary)) |\n"
            pages[file] = markdown(spec)
        }
        pages["README.md"] = index
        return pages
    }

    public static func markdown(_ spec: NodeSpec) -> String {
        var text = "# \(spec.title) — `\(spec.reference)`\n\n\(spec.summary)\n\n"
        text += "Category: **\(spec.category.rawValue)**"
        if !spec.capabilities.isEmpty { text += " · capabilities: " + spec.capabilities.map(\.rawValue).sorted().joined(separator: ", ") }
        text += "\n\n## Ports\n\n| port | direction | kind | description |\n|---|---|---|---|\n"
        for port in spec.inputs { text += "| `\(port.name)` | in | \(port.kind.rawValue) | \(escape(port.summary)) |\n" }
        if let setting = spec.outputsFromSetting { text += "| *each key of `\(setting)`* | out | data | One output per key of the `\(setting)` setting. |\n" }
        for port in spec.allOutputs { text += "| `\(port.name)` | out | \(port.kind.rawValue) | \(escape(port.summary)) |\n" }
        text += "\n## Settings\n\n"
        if spec.fields.isEmpty {
            text += "None.\n"
        } else {
            text += "| setting | type | required | default | description |\n|---|---|---|---|---|\n"
            for field in spec.fields {
                text += "| `\(field.name)` | \(escape(field.kind.description)) | \(field.isRequired ? "yes" : "no") | \(field.defaultText.map { "`\(escape($0))`" } ?? "") | \(escape(field.summary))\(field.example.map { " Example: `\(escape($0))`" } ?? "") |\n"
            }
        }
        text += "\n## Example\n\n```yaml\n- id: \(spec.id.replacingOccurrences(of: ".", with: "_"))\n  type: \(spec.reference)\n"
        let examples = spec.fields.filter { $0.isRequired || $0.example != nil }
        if !examples.isEmpty {
            text += "  settings:\n"
            for field in examples { text += "    \(field.name): \(field.example ?? field.defaultText ?? "…")\n" }
        }
        text += "```\n"
        return text
    }

    /// The specs as a JSON array (for `sluice nodes --json` and the editor's palette).
    public static func json(_ specs: [NodeSpec]) -> String {
        let items = specs.map { spec -> String in
            func ports(_ list: [PortSpec]) -> String {
                "[" + list.map { JSONText.object([("name", .string($0.name)), ("kind", .string($0.kind.rawValue)), ("summary", .string($0.summary)), ("optional", .json($0.isOptional ? "true" : "false"))]) }.joined(separator: ",") + "]"
            }
            let fields = fieldsJSON(spec.fields)
            return JSONText.object([
                ("id", .string(spec.id)), ("version", .int(Int64(spec.version))), ("reference", .string(spec.reference)),
                ("category", .string(spec.category.rawValue)), ("title", .string(spec.title)), ("summary", .string(spec.summary)),
                ("color", .string(spec.color)), ("icon", .string(spec.icon)),
                ("inputs", .json(ports(spec.inputs))), ("outputs", .json(ports(spec.allOutputs))), ("fields", .json(fields)),
                ("capabilities", .json("[" + spec.capabilities.map(\.rawValue).sorted().map { "\"\($0)\"" }.joined(separator: ",") + "]")),
                ("outputsFromSetting", spec.outputsFromSetting.map(Value.string) ?? .null),
            ])
        }
        return "[" + items.joined(separator: ",\n") + "]\n"
    }

    /// Setting fields as a JSON array: name, kind, type text, summary, required, default, example, choices, secret.
    public static func fieldsJSON(_ fields: [FieldSpec], secrets: Set<String> = []) -> String {
        "[" + fields.map { f in
            var pairs: [(String, Value)] = [("name", .string(f.name)), ("kind", .string(f.kind.jsonName)), ("type", .string(f.kind.description)),
                                            ("summary", .string(f.summary)), ("required", .bool(f.isRequired)),
                                            ("default", f.defaultText.map(Value.string) ?? .null), ("example", f.example.map(Value.string) ?? .null)]
            if case let .choice(words) = f.kind { pairs.append(("choices", .json("[" + words.map(JSONText.quoted).joined(separator: ",") + "]"))) }
            if secrets.contains(f.name) { pairs.append(("secret", .bool(true))) }
            return JSONText.object(pairs)
        }.joined(separator: ",") + "]"
    }

    /// Connection type specs as a JSON array (for the UI's connection forms); secret fields are marked.
    /// The connection types with their fields, and whether their schema can be browsed (`discoverable`).
    public static func connectionTypesJSON(_ registry: ConnectorRegistry) -> String {
        "[" + registry.all.map { connector in
            let spec = connector.spec
            return JSONText.object([("type", .string(spec.type)), ("summary", .string(spec.summary)), ("fields", .json(fieldsJSON(spec.fields, secrets: spec.secretFields))),
                                    ("discoverable", .json(connector is any SchemaDiscovering.Type ? "true" : "false"))])
        }.joined(separator: ",\n") + "]\n"
    }

    private static func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
