public import Columnar
public import NodeKit

/// A node ready to run: its spec, declaration, schemas and work.
public struct PlannedNode: Sendable {
    public let id: String
    public let spec: NodeSpec
    public let declaration: NodeDeclaration
    public let inputSchemas: [String: [Schema]]
    public let outputSchemas: [String: Schema]
    public let work: any NodeWork
    public let retry: RetrySettings
    public let timeout: Duration?

    /// True for nodes with no data inputs (they start the flow; `maxConcurrency` limits these).
    public var isSource: Bool { !spec.inputs.contains { $0.kind == .data } }
}

/// A validated, typed, topologically ordered pipeline, ready for the executor.
public struct ExecutionPlan: Sendable {
    public let document: PipelineDocument
    /// Nodes in topological order (every node after all its upstream nodes).
    public let nodes: [PlannedNode]
    public let edges: [EdgeDeclaration]
    public let parameters: [String: Value]
    /// Set for `sluice preview`: the node whose first output rows are collected; sinks are not run.
    public let previewNode: String?
    /// What data edges with `where` or `select` do to their batches, by `EdgeTransform.key`.
    public var edgeTransforms: [String: EdgeTransform] = [:]
    /// Every node's output schemas before projection pushdown narrowed them (node → port → schema): all the
    /// columns a node could use, which the editor offers.
    public var fullSchemas: [String: [String: Schema]] = [:]
    /// What planning noticed per node (see `NodePlan.notes`).
    public var notes: [String: [String]] = [:]

    public func node(_ id: String) -> PlannedNode? { nodes.first { $0.id == id } }

    public var dataEdges: [EdgeDeclaration] { edges.filter { $0.kind == .data } }
    public var signalEdges: [EdgeDeclaration] { edges.filter { $0.kind == .signal } }

    /// For each node, the nodes upstream of it over data edges.
    /// The failure branch: targets of `failed` signal edges and every node after them (over any edge). It runs
    /// after another node failed, while the rest of the run is torn down.
    public func failureBranch() -> Set<String> {
        var branch = Set(signalEdges.filter { $0.from.port == "failed" }.map(\.to.node))
        var frontier = Array(branch)
        while let node = frontier.popLast() {
            for edge in edges where edge.from.node == node && !branch.contains(edge.to.node) {
                branch.insert(edge.to.node)
                frontier.append(edge.to.node)
            }
        }
        return branch
    }

    public func upstreamNodes() -> [String: Set<String>] {
        var upstream: [String: Set<String>] = [:]
        for node in nodes {
            var seen = Set<String>(), frontier = [node.id]
            while let current = frontier.popLast() {
                for edge in dataEdges where edge.to.node == current && seen.insert(edge.from.node).inserted { frontier.append(edge.from.node) }
            }
            upstream[node.id] = seen
        }
        return upstream
    }

    /// For each node, the nodes its rows flow into (over data edges, at any depth), leaving out any that wait on a
    /// signal from it, directly or further on (they cannot end before it). A node that writes and also passes rows
    /// on (`files.copy`) commits only once these ended with the run still healthy, so a failure downstream of it
    /// leaves nothing behind.
    public func commitWaits() -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for (node, ancestors) in upstreamNodes() { for ancestor in ancestors { result[ancestor, default: []].insert(node) } }
        for node in nodes {
            guard let downstream = result[node.id], !downstream.isEmpty else { continue }
            // Everything reached from the node along a path that takes at least one signal edge.
            var afterSignal = Set<String>(), seen = Set<String>()
            var frontier: [(String, Bool)] = [(node.id, false)]
            while let (current, signalled) = frontier.popLast() {
                for edge in dataEdges where edge.from.node == current && seen.insert("\(edge.to.node)|\(signalled)").inserted {
                    if signalled { afterSignal.insert(edge.to.node) }
                    frontier.append((edge.to.node, signalled))
                }
                for edge in signalEdges where edge.from.node == current && seen.insert("\(edge.to.node)|true").inserted {
                    afterSignal.insert(edge.to.node)
                    frontier.append((edge.to.node, true))
                }
            }
            result[node.id] = downstream.subtracting(afterSignal)
        }
        return result
    }

    /// For each node with state stores downstream of it, those stores (by sink id), where its committed state lives.
    public func stateStores() -> [String: [(sink: String, store: any StateStore)]] {
        var result: [String: [(sink: String, store: any StateStore)]] = [:]
        for (sink, ancestors) in upstreamNodes() {
            guard let store = node(sink)?.work as? any StateStore else { continue }
            for ancestor in ancestors { result[ancestor, default: []].append((sink, store)) }
        }
        return result.mapValues { $0.sorted { $0.sink < $1.sink } }
    }
}
