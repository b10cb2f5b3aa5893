import NodeKit

/// The differences between two pipeline revisions at node, edge and setting level.
struct PipelineDiff: APIView, Equatable {
    struct SettingChange: Codable, Equatable { var path: String; var before: String?; var after: String? }
    struct NodeChange: Codable, Equatable { var id: String; var typeBefore: String?; var typeAfter: String?; var settings: [SettingChange] }

    var nodesAdded: [String] = []
    var nodesRemoved: [String] = []
    var nodesChanged: [NodeChange] = []
    var edgesAdded: [String] = []
    var edgesRemoved: [String] = []
    var settingsChanged: [SettingChange] = []

    init(from old: PipelineDocument, to new: PipelineDocument) {
        let oldNodes = Dictionary(old.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let newNodes = Dictionary(new.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        nodesAdded = new.nodes.map(\.id).filter { oldNodes[$0] == nil }
        nodesRemoved = old.nodes.map(\.id).filter { newNodes[$0] == nil }
        for node in new.nodes {
            guard let before = oldNodes[node.id] else { continue }
            let changes = Self.compare(Self.flatten(before.settings), Self.flatten(node.settings))
            let typeChanged = before.type.description != node.type.description
            if typeChanged || !changes.isEmpty {
                nodesChanged.append(NodeChange(id: node.id, typeBefore: typeChanged ? before.type.description : nil,
                                               typeAfter: typeChanged ? node.type.description : nil, settings: changes))
            }
        }
        let oldEdges = Set(old.edges.map(Self.edgeText)), newEdges = Set(new.edges.map(Self.edgeText))
        edgesAdded = new.edges.map(Self.edgeText).filter { !oldEdges.contains($0) }
        edgesRemoved = old.edges.map(Self.edgeText).filter { !newEdges.contains($0) }
        var top: [(String, String?, String?)] = []
        if old.name != new.name { top.append(("name", old.name, new.name)) }
        if old.description != new.description { top.append(("description", old.description, new.description)) }
        settingsChanged = top.map { SettingChange(path: $0.0, before: $0.1, after: $0.2) }
    }

    static func edgeText(_ edge: EdgeDeclaration) -> String {
        "\(edge.from) → \(edge.to)" + (edge.kind == .signal ? " (signal)" : "")
    }

    /// Leaf values by dotted path (`columns.total`, `key[0]`).
    static func flatten(_ setting: Setting, path: String = "") -> [String: String] {
        switch setting.kind {
        case let .map(entries):
            var out: [String: String] = [:]
            for entry in entries { out.merge(flatten(entry.value, path: path.isEmpty ? entry.key : path + "." + entry.key)) { a, _ in a } }
            return out
        case let .list(items):
            var out: [String: String] = [:]
            for (i, item) in items.enumerated() { out.merge(flatten(item, path: "\(path)[\(i)]")) { a, _ in a } }
            return out
        case .null: return [path: "null"]
        default: return [path: setting.scalarText ?? ""]
        }
    }

    static func compare(_ a: [String: String], _ b: [String: String]) -> [SettingChange] {
        Set(a.keys).union(b.keys).sorted().compactMap { key in a[key] == b[key] ? nil : SettingChange(path: key, before: a[key], after: b[key]) }
    }
}
