import Columnar
import Foundation
import Expressions

extension PipelineDocument {
    /// Reads a document from a file (YAML or JSON).
    public static func load(path: String) throws(ConfigErrors) -> PipelineDocument {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigErrors([ConfigError(code: "file_not_found", message: "cannot read pipeline file '\(path)': \(error.localizedDescription)")])
        }
        return try parse(text, file: path)
    }

    /// Parses YAML or JSON text; reports every structural problem found, each with its location.
    public static func parse(_ text: String, file: String? = nil) throws(ConfigErrors) -> PipelineDocument {
        let root: Setting
        do { root = try YAMLReader.read(text, file: file) } catch { throw ConfigErrors([error]) }
        var reader = DocumentReader(file: file)
        let document = reader.document(root)
        if !reader.errors.isEmpty { throw ConfigErrors(reader.errors) }
        return document!
    }
}

/// Walks the setting tree of a document, collecting every problem instead of stopping at the first.
struct DocumentReader {
    let file: String?
    var errors: [ConfigError] = []

    mutating func fail(_ code: String, _ message: String, at setting: Setting?, node: String? = nil, field: String? = nil, expected: String? = nil) {
        errors.append(ConfigError(code: code, message: message, location: setting?.location, node: node, field: field, expected: expected))
    }

    /// Checks that a mapping has only known keys; returns its entries.
    mutating func mapping(_ setting: Setting, allowed: [String], context: String, node: String? = nil) -> [Setting.Entry] {
        guard let entries = setting.entries else {
            fail("invalid_value", "\(context) must be a mapping, but is \(setting.kindName)", at: setting, node: node)
            return []
        }
        for entry in entries where !allowed.contains(entry.key) {
            let suggestion = closest(entry.key, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
            errors.append(ConfigError(code: "unknown_key", message: "unknown key '\(entry.key)' in \(context)\(suggestion)",
                                      location: entry.keyLocation, node: node, field: entry.key, expected: "one of: \(allowed.joined(separator: ", "))"))
        }
        return entries
    }

    mutating func document(_ root: Setting) -> PipelineDocument? {
        let top = ["apiVersion", "name", "description", "parameters", "settings", "nodes", "edges", "layout", "triggers", "notify", "tests"]
        _ = mapping(root, allowed: top, context: "the pipeline document")
        guard root.entries != nil else { return nil }
        if let version = root["apiVersion"] {
            if version.scalarText != PipelineDocument.apiVersion {
                fail("invalid_value", "unsupported apiVersion '\(version.scalarText ?? version.kindName)'", at: version, field: "apiVersion", expected: PipelineDocument.apiVersion)
            }
        } else {
            fail("missing_field", "the document needs 'apiVersion: \(PipelineDocument.apiVersion)'", at: root, field: "apiVersion")
        }
        let name = string(root["name"], field: "name", required: true, at: root) ?? ""
        let description = string(root["description"], field: "description", required: false, at: root)
        var parameterList: [ParameterDeclaration] = []
        if let p = root["parameters"] { parameterList = parameters(p) }
        var settings = RunSettings()
        if let s = root["settings"] { settings = runSettings(s) }
        var nodes: [NodeDeclaration] = []
        if let list = root["nodes"] {
            if let items = list.list { nodes = items.compactMap { node($0) } } else { fail("invalid_value", "'nodes' must be a list", at: list, field: "nodes") }
        } else {
            fail("missing_field", "the document needs a 'nodes' list", at: root, field: "nodes")
        }
        var edges: [EdgeDeclaration] = []
        if let list = root["edges"] {
            if let items = list.list { edges = items.compactMap { edge($0) } } else { fail("invalid_value", "'edges' must be a list", at: list, field: "edges") }
        }
        var layout: [String: [Double]] = [:]
        if let map = root["layout"] {
            for entry in mapping(map, allowed: map.entries?.map(\.key) ?? [], context: "layout") {
                let coordinates = entry.value.list?.compactMap { item -> Double? in
                    switch item.kind { case let .int(i): Double(i); case let .double(d): d; default: nil }
                } ?? []
                if coordinates.count != 2 { fail("invalid_value", "layout of '\(entry.key)' must be [x, y]", at: entry.value, field: "layout") } else { layout[entry.key] = coordinates }
            }
        }
        var document = PipelineDocument(name: name, description: description, parameters: parameterList, settings: settings, nodes: nodes, edges: edges, layout: layout, file: file)
        if let list = root["tests"] {
            if let items = list.list { document.tests = items } else { fail("invalid_value", "'tests' must be a list of tests (see docs/testing.md)", at: list, field: "tests") }
        }
        if let list = root["triggers"] {
            if let items = list.list { document.triggers = items } else { fail("invalid_value", "'triggers' must be a list", at: list, field: "triggers") }
        }
        if let list = root["notify"] {
            if let items = list.list { document.notify = items.enumerated().compactMap { notification($1, index: $0) } } else {
                fail("invalid_value", "'notify' must be a list of {on, via, connection}", at: list, field: "notify")
            }
        }
        return document
    }

    /// One `notify:` entry: `{on: [failed, succeeded, rejected], via: slack|webhook, connection: NAME, path?, to?}`.
    mutating func notification(_ setting: Setting, index: Int) -> RunNotification? {
        let field = "notify[\(index)]"
        _ = mapping(setting, allowed: ["on", "via", "connection", "path", "to"], context: field)
        guard setting.entries != nil else { return nil }
        var events: Set<RunNotificationEvent> = []
        let onSetting = setting["on"]
        for item in onSetting?.list ?? onSetting.map({ [$0] }) ?? [] {
            guard let event = item.scalarText.flatMap(RunNotificationEvent.init) else {
                fail("invalid_value", "'\(item.scalarText ?? item.kindName)' is not a run outcome", at: item, field: "\(field).on",
                     expected: RunNotificationEvent.allCases.map(\.rawValue).joined(separator: ", "))
                continue
            }
            events.insert(event)
        }
        if onSetting == nil { events = [.failed] }
        guard let via = string(setting["via"], field: "\(field).via", required: true, at: setting),
              let connection = string(setting["connection"], field: "\(field).connection", required: true, at: setting) else { return nil }
        let path = string(setting["path"], field: "\(field).path", required: false, at: setting)
        let to = setting["to"].map { value in value.list?.compactMap(\.scalarText) ?? value.scalarText.map { [$0] } ?? [] } ?? []
        return RunNotification(on: events, via: via, connection: connection, path: path, to: to, location: setting.location)
    }

    mutating func string(_ setting: Setting?, field: String, required: Bool, at parent: Setting, node: String? = nil) -> String? {
        guard let setting else {
            if required { fail("missing_field", "missing required field '\(field)'", at: parent, node: node, field: field) }
            return nil
        }
        guard case let .string(s) = setting.kind else {
            fail("invalid_value", "'\(field)' must be a string, but is \(setting.kindName)", at: setting, node: node, field: field, expected: "a string")
            return nil
        }
        return s
    }

    mutating func parameters(_ setting: Setting) -> [ParameterDeclaration] {
        var result: [ParameterDeclaration] = []
        for entry in mapping(setting, allowed: setting.entries?.map(\.key) ?? [], context: "parameters") {
            let spec = entry.value
            _ = mapping(spec, allowed: ["type", "default", "description"], context: "parameter '\(entry.key)'")
            let typeName = string(spec["type"], field: "type", required: false, at: spec) ?? "string"
            guard let type = DataType(name: typeName) else {
                fail("invalid_value", "unknown type '\(typeName)' for parameter '\(entry.key)'", at: spec["type"], field: "parameters.\(entry.key).type", expected: DataType.spellings.joined(separator: ", "))
                continue
            }
            var defaultValue: Value?
            if let d = spec["default"] {
                do { defaultValue = try ParameterValues.value(from: d, as: type) } catch {
                    fail("invalid_value", "default of parameter '\(entry.key)': \(error.message)", at: d, field: "parameters.\(entry.key).default", expected: type.description)
                }
            }
            result.append(ParameterDeclaration(name: entry.key, type: type, defaultValue: defaultValue, description: spec["description"]?.scalarText, location: entry.keyLocation))
        }
        return result
    }

    mutating func runSettings(_ setting: Setting) -> RunSettings {
        var result = RunSettings()
        for entry in mapping(setting, allowed: ["maxConcurrency", "onRecordError", "maxRejected", "sampleRows"], context: "settings") {
            switch entry.key {
            case "maxConcurrency":
                if case let .int(i) = entry.value.kind, i >= 0 { result.maxConcurrency = Int(i) } else { fail("invalid_value", "maxConcurrency must be a whole number ≥ 0", at: entry.value, field: "settings.maxConcurrency") }
            case "maxRejected":
                if case let .int(i) = entry.value.kind, i >= 0 { result.maxRejected = Int(i) } else { fail("invalid_value", "maxRejected must be a whole number ≥ 0", at: entry.value, field: "settings.maxRejected") }
            case "sampleRows":
                if case let .int(i) = entry.value.kind, (0...1000).contains(i) { result.sampleRows = Int(i) } else {
                    fail("invalid_value", "sampleRows must be a whole number from 0 (no samples) to 1000", at: entry.value, field: "settings.sampleRows")
                }
            default:
                if let text = entry.value.scalarText, let policy = RecordErrorPolicy(rawValue: text) { result.onRecordError = policy } else {
                    fail("invalid_value", "invalid onRecordError", at: entry.value, field: "settings.onRecordError", expected: RecordErrorPolicy.allCases.map(\.rawValue).joined(separator: " or "))
                }
            }
        }
        return result
    }

    mutating func node(_ setting: Setting) -> NodeDeclaration? {
        let idText = setting["id"]?.scalarText
        _ = mapping(setting, allowed: ["id", "type", "settings", "retry", "timeout", "description"], context: "node \(idText.map { "'\($0)'" } ?? "")", node: idText)
        guard setting.entries != nil else { return nil }
        guard let id = string(setting["id"], field: "id", required: true, at: setting) else { return nil }
        if id.isEmpty || id.contains(".") || id.contains(where: \.isWhitespace) {
            fail("invalid_value", "node id '\(id)' must be non-empty without dots or spaces", at: setting["id"], node: id, field: "id")
        }
        guard let typeText = string(setting["type"], field: "type", required: true, at: setting, node: id) else { return nil }
        guard let type = NodeTypeReference(parsing: typeText) else {
            fail("invalid_value", "invalid node type '\(typeText)'", at: setting["type"], node: id, field: "type", expected: "name or name@version, e.g. csv.read@1")
            return nil
        }
        let settings = setting["settings"] ?? Setting(.map([]), location: setting.location)
        if settings.entries == nil { fail("invalid_value", "settings must be a mapping", at: settings, node: id, field: "settings") }
        var retry: RetrySettings?
        if let r = setting["retry"] {
            var policy = RetrySettings(attempts: 3)
            for entry in mapping(r, allowed: ["attempts", "backoff", "maxBackoff"], context: "retry", node: id) {
                switch entry.key {
                case "attempts":
                    if case let .int(i) = entry.value.kind, i >= 1 { policy.attempts = Int(i) } else { fail("invalid_value", "attempts must be ≥ 1", at: entry.value, node: id, field: "retry.attempts") }
                default:
                    if let d = DurationText.parse(entry.value.scalarText ?? "") { if entry.key == "backoff" { policy.backoff = d } else { policy.maxBackoff = d } } else {
                        fail("invalid_value", "invalid duration", at: entry.value, node: id, field: "retry.\(entry.key)", expected: "a duration such as 500ms, 2s or 1m")
                    }
                }
            }
            retry = policy
        }
        var timeout: Duration?
        if let t = setting["timeout"] {
            if let d = DurationText.parse(t.scalarText ?? "") { timeout = d } else {
                fail("invalid_value", "invalid timeout", at: t, node: id, field: "timeout", expected: "a duration such as 30s or 10m")
            }
        }
        return NodeDeclaration(id: id, type: type, settings: settings, retry: retry, timeout: timeout, location: setting.location)
    }

    mutating func edge(_ setting: Setting) -> EdgeDeclaration? {
        _ = mapping(setting, allowed: ["from", "to", "kind", "where", "select"], context: "edge")
        guard setting.entries != nil else { return nil }
        func port(_ field: String) -> PortReference? {
            guard let text = string(setting[field], field: field, required: true, at: setting) else { return nil }
            let parts = text.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                fail("invalid_value", "'\(text)' is not a port reference", at: setting[field], field: field, expected: "node.port, e.g. orders.out")
                return nil
            }
            return PortReference(node: String(parts[0]), port: String(parts[1]))
        }
        let from = port("from"), to = port("to")
        var kind = EdgeKind.data
        if let k = setting["kind"] {
            if let text = k.scalarText, let parsed = EdgeKind(rawValue: text) { kind = parsed } else {
                fail("invalid_value", "invalid edge kind", at: k, field: "kind", expected: "data or signal")
            }
        }
        var filter: Expressions.Expression?
        if let condition = setting["where"] {
            if let text = string(condition, field: "where", required: true, at: setting) {
                do { filter = try Expressions.Expression(text) } catch {
                    fail(error.code, error.description, at: condition, field: "where")
                }
            }
        }
        var select: [String]?
        if let columns = setting["select"] {
            if let items = columns.list, !items.isEmpty, items.allSatisfy({ $0.scalarText != nil }) { select = items.compactMap(\.scalarText) } else {
                fail("invalid_value", "'select' is a list of column names", at: columns, field: "select", expected: "[id, amount]")
            }
        }
        if kind == .signal, filter != nil || select != nil {
            fail("invalid_value", "a signal edge carries no rows: where and select apply to data edges", at: setting, field: filter != nil ? "where" : "select")
        }
        guard let from, let to else { return nil }
        return EdgeDeclaration(from: from, to: to, kind: kind, filter: filter, select: select, location: setting.location)
    }

    /// The allowed word closest to `word` by edit distance, if close enough to be a likely typo.
    func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
        return best
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// Durations as users write them: `250ms`, `30s`, `5m`, `2h`, or a bare number of seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var number = Substring(t), factor = 1.0
        if let (suffix, size) = units.first(where: { t.hasSuffix($0.0) }) {
            number = t.dropLast(suffix.count)
            factor = size
        }
        // At most about 30,000 years: larger numbers (1e300s) are refused instead of overflowing.
        guard let n = Double(number), n >= 0, n * factor <= 1e12 else { return nil }
        return .milliseconds(Int64(n * factor * 1000))
    }

    /// A duration in the largest unit that divides it: `1d`, `15m`, `30s`, `250ms`.
    public static func format(_ duration: Duration) -> String {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where millis >= size && millis % size == 0 {
            return "\(millis / size)\(unit)"
        }
        return "\(millis)ms"
    }
}
