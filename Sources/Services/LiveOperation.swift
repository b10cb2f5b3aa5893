public import Store

/// The shape of an editor's change to a live working copy (see docs/server.md, "Live editing"), checked before it
/// is ordered, and the node ids it names. The server never builds the document from operations: values an
/// operation carries (a node's declaration, a setting's value) are JSON text it stores and forwards untouched, so
/// the order of a mapping's keys (a switch's cases) survives. It only follows node ids, to keep them unique.
public enum LiveOperation {
    /// What an operation may do.
    static let kinds: Set<String> = ["add", "remove", "move", "connect", "disconnect", "filter", "set", "rename", "meta", "batch"]
    /// Document fields a `meta` operation may not set (operations on nodes, edges and layout do).
    static let structural: Set<String> = ["nodes", "edges", "layout", "apiVersion"]
    static let maximumIDLength = 200
    static let maximumBatch = 500

    /// Refuses an operation that is not one the editor sends, naming what is wrong.
    public static func check(_ op: JSONValue, nested: Bool = false) throws {
        guard case let .string(kind)? = op["kind"], kinds.contains(kind) else {
            throw ServiceError.invalid("an operation's kind is one of \(kinds.sorted().joined(separator: ", "))", field: "op.kind")
        }
        switch kind {
        case "add":
            guard let nodes = op["nodes"]?.arrayValue, !nodes.isEmpty, nodes.count <= maximumBatch else { throw invalid("add needs nodes: 1 to \(maximumBatch)", "op.nodes") }
            for node in nodes {
                try id(node["id"], "op.nodes.id")
                guard node["decl"]?.stringValue != nil else { throw invalid("each added node carries its declaration as JSON text (decl)", "op.nodes.decl") }
            }
            try positions(op["at"], optional: true)
            if let edges = op["edges"] {
                guard let list = edges.arrayValue, list.count <= maximumBatch * 4 else { throw invalid("edges is a list", "op.edges") }
                for edge in list { try self.edge(edge) }
            }
        case "remove":
            guard let nodes = op["nodes"]?.arrayValue, !nodes.isEmpty, nodes.count <= maximumBatch else { throw invalid("remove needs nodes: 1 to \(maximumBatch) ids", "op.nodes") }
            for node in nodes { try id(node, "op.nodes") }
        case "move":
            try positions(op["at"], optional: false)
        case "connect":
            guard let edge = op["edge"] else { throw invalid("connect needs an edge", "op.edge") }
            try self.edge(edge)
        case "disconnect":
            try reference(op["from"], "op.from")
            try reference(op["to"], "op.to")
        case "filter":
            try reference(op["from"], "op.from")
            try reference(op["to"], "op.to")
            try filter(op)
        case "set":
            try id(op["node"], "op.node")
            try text(op["field"], "op.field")
            try value(op["value"])
            if let since = op["since"], case .int = since {} else if op["since"] != nil { throw invalid("since is the operation number the editor's form showed", "op.since") }
        case "rename":
            try id(op["node"], "op.node")
            guard let to = op["to"]?.stringValue, isNewID(to) else {
                throw invalid("a node id starts with a letter or _ and holds letters, digits, _ and - (at most 100)", "op.to")
            }
        case "meta":
            guard let field = op["field"]?.stringValue, !field.isEmpty, field.count <= maximumIDLength, !structural.contains(field) else {
                throw invalid("meta sets a pipeline field other than \(structural.sorted().joined(separator: ", "))", "op.field")
            }
            try value(op["value"])
        default: // batch
            guard !nested else { throw invalid("a batch holds operations, not batches", "op.ops") }
            guard let ops = op["ops"]?.arrayValue, !ops.isEmpty, ops.count <= maximumBatch else { throw invalid("batch needs ops: 1 to \(maximumBatch)", "op.ops") }
            for inner in ops { try check(inner, nested: true) }
        }
    }

    /// Whether `text` may become a node's id.
    static func isNewID(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 100, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }

    /// The operation with every node id it refers to passed through `rename` (ids it adds stay as they are).
    static func mapReferences(_ op: JSONValue, _ rename: (String) -> String) -> JSONValue {
        guard var object = op.objectValue, let kind = object["kind"]?.stringValue else { return op }
        func ref(_ value: JSONValue?) -> JSONValue? {
            guard let text = value?.stringValue, let dot = text.firstIndex(of: ".") else { return value }
            return .string(rename(String(text[..<dot])) + text[dot...])
        }
        switch kind {
        case "add":
            let added = Set(object["nodes"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            object["edges"] = object["edges"]?.arrayValue.map { .array($0.map { edge in
                guard var e = edge.objectValue else { return edge }
                for end in ["from", "to"] {
                    if let text = e[end]?.stringValue, let dot = text.firstIndex(of: "."), !added.contains(String(text[..<dot])) { e[end] = ref(e[end]) }
                }
                return .object(e)
            }) }
        case "remove":
            object["nodes"] = object["nodes"]?.arrayValue.map { .array($0.map { $0.stringValue.map { .string(rename($0)) } ?? $0 }) }
        case "move":
            object["at"] = object["at"]?.objectValue.map { at in .object(Dictionary(at.map { (rename($0.key), $0.value) }, uniquingKeysWith: { $1 })) }
        case "connect":
            if var edge = object["edge"]?.objectValue {
                edge["from"] = ref(edge["from"])
                edge["to"] = ref(edge["to"])
                object["edge"] = .object(edge)
            }
        case "disconnect", "filter":
            object["from"] = ref(object["from"])
            object["to"] = ref(object["to"])
        case "set", "rename":
            if let node = object["node"]?.stringValue { object["node"] = .string(rename(node)) }
        case "batch":
            object["ops"] = object["ops"]?.arrayValue.map { .array($0.map { mapReferences($0, rename) }) }
        default:
            break
        }
        return .object(object)
    }

    /// The operation with ids it adds renamed (`renamed`: old → new), in its own references too.
    static func renameAdded(_ op: JSONValue, _ renamed: [String: String]) -> JSONValue {
        guard var object = op.objectValue, object["kind"] == .string("add") else { return op }
        object["nodes"] = object["nodes"]?.arrayValue.map { .array($0.map { node in
            guard var n = node.objectValue, let id = n["id"]?.stringValue, let new = renamed[id] else { return node }
            n["id"] = .string(new)
            return .object(n)
        }) }
        object["at"] = object["at"]?.objectValue.map { at in .object(Dictionary(at.map { (renamed[$0.key] ?? $0.key, $0.value) }, uniquingKeysWith: { $1 })) }
        object["edges"] = object["edges"]?.arrayValue.map { .array($0.map { mapReferences(.object(["kind": .string("connect"), "edge": $0]), { renamed[$0] ?? $0 })["edge"] ?? $0 }) }
        return .object(object)
    }

    /// The first id of the form `base`, `base_2`, `base_3`… not in `taken` (as the editor names new nodes).
    static func freeID(like id: String, taken: Set<String>) -> String {
        var base = id
        if let underscore = id.lastIndex(of: "_"), !id[id.index(after: underscore)...].isEmpty, id[id.index(after: underscore)...].allSatisfy(\.isNumber) {
            base = String(id[..<underscore])
        }
        if !taken.contains(base) { return base }
        var n = 2
        while taken.contains("\(base)_\(n)") { n += 1 }
        return "\(base)_\(n)"
    }

    // MARK: Checks

    private static func invalid(_ message: String, _ field: String) -> ServiceError { ServiceError.invalid(message, field: field) }

    private static func id(_ value: JSONValue?, _ field: String) throws {
        guard let text = value?.stringValue, !text.isEmpty, text.count <= maximumIDLength, !text.contains(".") else {
            throw invalid("a node id is text of 1 to \(maximumIDLength) characters without a dot", field)
        }
    }

    private static func text(_ value: JSONValue?, _ field: String) throws {
        guard let text = value?.stringValue, !text.isEmpty, text.count <= maximumIDLength else { throw invalid("\(field) is text of 1 to \(maximumIDLength) characters", field) }
    }

    private static func reference(_ value: JSONValue?, _ field: String) throws {
        guard let text = value?.stringValue, let dot = text.firstIndex(of: "."), dot != text.startIndex, text.count <= 2 * maximumIDLength else {
            throw invalid("an edge end is node.port", field)
        }
    }

    private static func value(_ value: JSONValue?) throws {
        guard value == nil || value?.stringValue != nil else { throw invalid("a value is JSON text (absent: the field is removed)", "op.value") }
    }

    private static func positions(_ value: JSONValue?, optional: Bool) throws {
        guard let value else {
            if optional { return }
            throw invalid("move needs at: {node: [x, y]}", "op.at")
        }
        guard let at = value.objectValue, at.count <= maximumBatch * 4 else { throw invalid("at maps node ids to [x, y]", "op.at") }
        for (node, point) in at {
            try id(.string(node), "op.at")
            guard let xy = point.arrayValue, xy.count == 2, xy.allSatisfy({ $0.isFiniteNumber }) else { throw invalid("a position is [x, y]", "op.at.\(node)") }
        }
    }

    private static func edge(_ edge: JSONValue) throws {
        guard edge.objectValue != nil else { throw invalid("an edge is {from, to}", "op.edge") }
        try reference(edge["from"], "op.edge.from")
        try reference(edge["to"], "op.edge.to")
        if let kind = edge["kind"], kind.stringValue == nil { throw invalid("an edge's kind is text", "op.edge.kind") }
        try filter(edge)
    }

    private static func filter(_ object: JSONValue) throws {
        if let whereValue = object["where"], whereValue.stringValue == nil { throw invalid("where is an expression (text)", "op.where") }
        if let select = object["select"] {
            guard let names = select.arrayValue, names.count <= 1000, names.allSatisfy({ $0.stringValue != nil }) else { throw invalid("select is a list of column names", "op.select") }
        }
    }
}

extension JSONValue {
    var isFiniteNumber: Bool {
        switch self {
        case .int: true
        case let .double(d): d.isFinite
        default: false
        }
    }
}
