import NodeKit

/// What goes wrong in a pipeline only when it runs again and again on a schedule: totals appended to a table
/// (an `aggregate` or `pivot` feeding a table sink in `append` mode) repeat with every run.
enum ScheduleWarnings {
    /// Node types whose rows summarise their input: appending them twice duplicates the summary.
    static let summarising: Set<String> = ["aggregate", "pivot"]

    static func of(_ document: PipelineDocument, registry: NodeRegistry) -> [String] {
        let byID = Dictionary(document.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var downstream: [String: [String]] = [:]
        for edge in document.edges where edge.kind == .data { downstream[edge.from.node, default: []].append(edge.to.node) }
        var warnings: [String] = []
        for node in document.nodes where summarising.contains(node.type.name) {
            var seen: Set<String> = [node.id]
            var pending = downstream[node.id] ?? []
            while let next = pending.popLast() {
                guard seen.insert(next).inserted, let target = byID[next] else { continue }
                if appendsToTable(target, registry: registry) {
                    let table = target.settings["table"]?.scalarText.map { " \($0)" } ?? ""
                    warnings.append("'\(node.id)' (\(node.type.name)) feeds '\(target.id)', which appends to the table\(table): every scheduled run adds its totals again. "
                                    + "Use mode: merge with a key, or replace.")
                } else {
                    pending += downstream[next] ?? []
                }
            }
        }
        return warnings
    }

    /// A table sink (its spec has `table` and a `mode` offering `append`) left in, or set to, append mode.
    static func appendsToTable(_ node: NodeDeclaration, registry: NodeRegistry) -> Bool {
        guard let type = registry.resolve(node.type), type.spec.fields.contains(where: { $0.name == "table" }),
              let mode = type.spec.fields.first(where: { $0.name == "mode" }), case let .choice(words) = mode.kind, words.contains("append") else { return false }
        return (node.settings["mode"]?.scalarText ?? mode.defaultText ?? "append") == "append"
    }
}
