import Foundation
public import Store

/// A whole trigger as users write it (API JSON or a pipeline's `triggers:` entry), checked.
public struct TriggerDefinition: Sendable {
    public var name: String
    /// The kind's name (`cron`, `watermark`, …).
    public var kind: String
    /// The checked settings, a value of the kind's type.
    public var settings: any TriggerKind
    /// The settings as stored: as given, with camelCase keys.
    public var settingsJSON: JSONValue
    public var rule: TriggerRule?
    public var enabled: Bool
    public var overlap: OverlapPolicy
    public var missed: MissedPolicy
    public var missedCap: Int
    /// Linked pipelines (by id) with parameter templates.
    public var links: [TriggerLink]

    /// Reads a definition from a JSON object. `pipelines` links are read when `readsLinks` (the API);
    /// a pipeline document's triggers instead carry `parameters` for the pipeline that declares them.
    public static func parse(_ object: JSONValue, readsLinks: Bool) throws(TriggerConfigError) -> TriggerDefinition {
        guard case let .object(fields) = object else { throw TriggerConfigError("a trigger must be an object", field: nil) }
        var allowed: Set<String> = ["name", "kind", "settings", "rule", "enabled", "overlap", "missed", "missed_cap"]
        allowed.insert(readsLinks ? "pipelines" : "parameters")
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw TriggerConfigError("unknown_key", "unknown key '\(unknown)'; a trigger has: \(allowed.sorted().joined(separator: ", "))", field: unknown)
        }
        guard let name = fields["name"]?.stringValue, !name.isEmpty, name.count <= 200 else {
            throw TriggerConfigError("missing_field", "a trigger needs a 'name' (1 to 200 characters)", field: "name")
        }
        guard let kindText = fields["kind"]?.stringValue else {
            throw TriggerConfigError("missing_field", "a trigger needs a 'kind': one of \(TriggerKinds.names.joined(separator: ", "))", field: "kind")
        }
        guard let kind = TriggerKinds.named(kindText) else {
            throw TriggerConfigError("unknown kind '\(kindText)'; one of: \(TriggerKinds.names.joined(separator: ", "))", field: "kind")
        }
        let (settings, settingsJSON) = try TriggerKinds.read(kind, fields["settings"] ?? .object([:]))
        var rule: TriggerRule?
        if let value = fields["rule"], value != .null {
            guard let text = value.stringValue else { throw TriggerConfigError("'rule' must be an expression text", field: "rule") }
            if !text.trimmingCharacters(in: .whitespaces).isEmpty {
                rule = try TriggerRule(text)
                if let sample = kind.sampleEvent { try rule?.check(against: sample) }
            }
        }
        let enabled: Bool
        switch fields["enabled"] {
        case nil, .null?: enabled = true
        case let .bool(b)?: enabled = b
        default: throw TriggerConfigError("'enabled' must be true or false", field: "enabled")
        }
        let overlap = try choice(fields["overlap"], OverlapPolicy.self, field: "overlap") ?? kind.defaultOverlap
        let missed = try choice(fields["missed"], MissedPolicy.self, field: "missed") ?? .latest
        var missedCap = 10
        if let value = fields["missed_cap"], value != .null {
            guard case let .int(cap) = value, (1...1000).contains(cap) else { throw TriggerConfigError("'missed_cap' must be an integer in 1...1000", field: "missed_cap") }
            missedCap = Int(cap)
        }
        var links: [TriggerLink] = []
        if readsLinks, let value = fields["pipelines"], value != .null {
            guard case let .array(items) = value else { throw TriggerConfigError("'pipelines' must be a list of {pipeline_id, parameters}", field: "pipelines") }
            for (index, item) in items.enumerated() {
                guard let id = item["pipeline_id"]?.stringValue, !id.isEmpty else {
                    throw TriggerConfigError("missing_field", "each linked pipeline needs a 'pipeline_id'", field: "pipelines[\(index)].pipeline_id")
                }
                let parameters = try templates(item["parameters"], field: "pipelines[\(index)].parameters")
                if links.contains(where: { $0.pipelineID == id }) { throw TriggerConfigError("pipeline '\(id)' is linked twice", field: "pipelines[\(index)].pipeline_id") }
                links.append(TriggerLink(pipelineID: id, parameters: parameters))
            }
        } else if !readsLinks {
            links = [TriggerLink(pipelineID: "", parameters: try templates(fields["parameters"], field: "parameters"))]
        }
        return TriggerDefinition(name: name, kind: kind.name, settings: settings, settingsJSON: settingsJSON, rule: rule, enabled: enabled,
                                 overlap: overlap, missed: missed, missedCap: missedCap, links: links)
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ value: JSONValue?, _ type: T.Type, field: String) throws(TriggerConfigError) -> T? where T.RawValue == String {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, let parsed = T(rawValue: text) else {
            throw TriggerConfigError("'\(field)' must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))", field: field)
        }
        return parsed
    }

    static func templates(_ value: JSONValue?, field: String) throws(TriggerConfigError) -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard case let .object(o) = value else { throw TriggerConfigError("'parameters' must map parameter names to templates", field: field) }
        var result: [String: String] = [:]
        for (name, template) in o {
            switch template {
            case let .string(s): result[name] = s
            case .int, .double, .bool: result[name] = TriggerEvent.text(template)
            default: throw TriggerConfigError("parameter '\(name)' must be a text such as \"${event.path}\"", field: "\(field).\(name)")
            }
        }
        do { try ParameterTemplate.check(result) } catch {
            throw TriggerConfigError(error.code, error.message, field: field + "." + (error.field?.split(separator: ".").last.map(String.init) ?? ""))
        }
        return result
    }

    /// The store record for this definition (links as given).
    public func record(id: String = MetadataStore.newID(), createdBy: String, declaredIn: String? = nil) -> TriggerRecord {
        TriggerRecord(id: id, name: name, kind: kind, settingsJSON: settingsJSON.text, rule: rule?.source, enabled: enabled,
                      overlap: overlap.rawValue, missed: missed.rawValue, missedCap: Int64(missedCap), declaredIn: declaredIn, createdBy: createdBy, links: links)
    }

    /// Reads a stored trigger back (it was checked when saved).
    public static func load(_ record: TriggerRecord) throws(TriggerConfigError) -> TriggerDefinition {
        var object: [String: JSONValue] = [
            "name": .string(record.name), "kind": .string(record.kind), "settings": JSONValue.parse(record.settingsJSON) ?? .object([:]),
            "enabled": .bool(record.enabled), "overlap": .string(record.overlap), "missed": .string(record.missed), "missed_cap": .int(record.missedCap),
        ]
        if let rule = record.rule { object["rule"] = .string(rule) }
        var definition = try parse(.object(object), readsLinks: true)
        definition.links = record.links
        return definition
    }
}
