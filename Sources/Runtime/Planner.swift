public import Columnar
import Expressions
public import NodeKit

/// Validates a pipeline document and turns it into an `ExecutionPlan` before any data moves.
///
/// Steps: resolve node types and versions; check settings against specs; check edges and ports;
/// detect cycles (naming the nodes); order nodes topologically; infer every schema from the sources down;
/// push column projection down to sources; plan again with the narrowed schemas.
/// Every problem found is reported, not only the first.
public struct Planner: Sendable {
    public let registry: NodeRegistry

    public init(registry: NodeRegistry) { self.registry = registry }

    /// Plans `document`. `previewNode` keeps only that node and its data upstream (the rest is not checked), with sinks disabled.
    /// `discoveryRows` bounds what a node discovering its columns reads (see `ValueDiscovery`): checks and previews
    /// pass a bound so that they stay quick; runs pass nil and read everything.
    public func plan(_ document: PipelineDocument, parameters: [String: Value], now: Int64, files: FileRoots,
                     connections: ConnectionCatalog = .empty, previewNode: String? = nil, discoveryRows: Int? = nil) async throws(ConfigErrors) -> ExecutionPlan {
        var errors: [ConfigError] = []
        let environment = ExpressionEnvironment(parameters: parameters, now: now)
        // A preview plans only the node and what feeds it: the rest of the document may be unfinished (the editor
        // previews while a pipeline is being built).
        var document = document
        if let previewNode {
            guard document.node(previewNode) != nil else {
                throw ConfigErrors([ConfigError(code: "unknown_node", message: "no node '\(previewNode)' to preview; nodes are: \(document.nodes.map(\.id).joined(separator: ", "))")])
            }
            let kept = ancestors(of: previewNode, edges: document.edges.filter { $0.kind == .data })
            document.nodes = document.nodes.filter { kept.contains($0.id) }
            document.edges = document.edges.filter { kept.contains($0.from.node) && kept.contains($0.to.node) }
        }

        // 1. Node types and settings.
        var instances: [String: (type: any NodeType.Type, node: any NodeType, declaration: NodeDeclaration)] = [:]
        var order: [String] = []
        for declaration in document.nodes {
            if instances[declaration.id] != nil || order.contains(declaration.id) {
                errors.append(ConfigError(code: "duplicate_id", message: "node id '\(declaration.id)' is used twice", location: declaration.location, node: declaration.id, field: "id"))
                continue
            }
            order.append(declaration.id)
            guard let type = registry.resolve(declaration.type) else {
                errors.append(registry.unknown(declaration.type, node: declaration.id, location: declaration.location))
                continue
            }
            let problems = type.spec.check(declaration.settings, node: declaration.id)
            if !problems.isEmpty { errors += problems; continue }
            do {
                let raw = try SettingParameters.substitute(declaration.settings, spec: type.spec, parameters: parameters, node: declaration.id)
                let node = try type.init(settings: Settings(node: declaration.id, raw: raw, files: files, connections: connections,
                                                                    connectors: registry.connectors))
                instances[declaration.id] = (type, node, declaration)
            } catch {
                errors.append(error.at(node: declaration.id, location: declaration.location))
            }
        }

        // 2. Edges and ports.
        var edges: [EdgeDeclaration] = []
        for edge in document.edges {
            var ok = true
            for (end, ref) in [("from", edge.from), ("to", edge.to)] where !order.contains(ref.node) {
                errors.append(ConfigError(code: "unknown_node", message: "edge \(end) '\(ref)' names no node; nodes are: \(order.joined(separator: ", "))",
                                          location: edge.location, field: end))
                ok = false
            }
            guard ok else { continue }
            if let source = instances[edge.from.node], let target = instances[edge.to.node] {
                let outputs = source.type.spec.allOutputs(settings: source.declaration.settings)
                guard let out = outputs.first(where: { $0.name == edge.from.port }) else {
                    errors.append(portError(edge, "from", outputs.map(\.name), output: true))
                    continue
                }
                guard let into = target.type.spec.allInputs.first(where: { $0.name == edge.to.port }) else {
                    errors.append(portError(edge, "to", target.type.spec.allInputs.map(\.name), output: false))
                    continue
                }
                if edge.kind == .data, out.kind != .data || into.kind != .data {
                    errors.append(ConfigError(code: "port_kind_mismatch", message: "data edge \(edge.from) → \(edge.to) connects a signal port; add 'kind: signal' or use data ports",
                                              location: edge.location, field: "kind"))
                    continue
                }
            }
            edges.append(edge)
        }
        for (id, entry) in instances {
            for port in entry.type.spec.inputs where port.kind == .data {
                let incoming = edges.filter { $0.kind == .data && $0.to.node == id && $0.to.port == port.name }
                if incoming.isEmpty, !port.isOptional {
                    errors.append(ConfigError(code: "unconnected_port", message: "input port '\(port.name)' is not connected; add an edge to \(id).\(port.name)",
                                              location: entry.declaration.location, node: id, field: port.name))
                } else if incoming.count > 1, !entry.type.spec.capabilities.contains(.fanIn) {
                    errors.append(ConfigError(code: "too_many_inputs", message: "input port '\(port.name)' accepts one edge but has \(incoming.count); use a union node to merge streams",
                                              location: incoming[1].location, node: id, field: port.name))
                }
            }
        }

        // 3. Cycles and order.
        let sorted: [String]
        switch TopologicalOrder.sort(nodes: order, edges: edges.map { ($0.from.node, $0.to.node) }) {
        case let .success(s): sorted = s
        case let .failure(cycle):
            errors.append(ConfigError(code: "cycle", message: "the pipeline has a cycle: \(cycle.nodes.joined(separator: " → "))",
                                      location: document.node(cycle.nodes[0])?.location, node: cycle.nodes[0]))
            throw ConfigErrors(errors)
        }
        let discovered = document, validEdges = edges
        let discovery = { @Sendable (node: String) -> ValueDiscovery in
            { @Sendable port, column, limit throws(ConfigError) in
                try await self.discover(column, arrivingAt: node, port, document: discovered, edges: validEdges, limit: limit, rows: discoveryRows,
                                        parameters: parameters, now: now, files: files, connections: connections)
            }
        }
        if !errors.isEmpty {
            // Check what can be checked already: every node whose settings were read and whose inputs are wired, fed by
            // nodes like it, so an unknown column shows while another node is still unfinished. Their output schemas
            // travel with the errors (the editor offers their columns).
            let unfinished = Set(order).subtracting(instances.keys).union(errors.compactMap(\.node))
            let partial = await inferSchemasCollecting(sorted, instances, edges, environment, projections: [:], discovery: discovery, skipping: unfinished)
            var failure = ConfigErrors(errors + partial.errors)
            failure.schemas = partial.plans.mapValues(\.outputs)
            failure.notes = partial.plans.mapValues(\.notes).filter { !$0.value.isEmpty }
            throw failure
        }

        // 4. Schemas, then projection pushdown, then final schemas.
        let (firstPass, firstTransforms) = try await inferSchemas(sorted, instances, edges, environment, projections: [:], discovery: discovery)
        var demand: [String: Set<String>?] = [:]
        for id in sorted.reversed() {
            // Rejected rows carry what the node was given, not its output columns: they ask nothing of the projection.
            let consumers = edges.filter { $0.kind == .data && $0.from.node == id && $0.from.port != RejectedPort.name }
            guard !consumers.isEmpty, id != previewNode else { demand[id] = .some(nil); continue }
            var needed: Set<String>? = []
            for edge in consumers {
                // An edge that filters or selects reads columns of its own: the upstream keeps all of them.
                if edge.transforms { needed = nil; break }
                let consumerDemand = demand[edge.to.node] ?? nil
                guard let required = instances[edge.to.node]!.node.requiredInputColumns(for: consumerDemand) else { needed = nil; break }
                needed?.formUnion(required)
            }
            demand[id] = .some(needed)
        }
        var projections: [String: Set<String>] = [:]
        for id in sorted where instances[id]!.type.spec.capabilities.contains(.projection) {
            if case let .some(.some(columns)) = demand[id], let full = firstPass[id]?.outputs["out"], columns.count < full.count {
                projections[id] = columns
            }
        }
        let (plans, transforms) = projections.isEmpty ? (firstPass, firstTransforms)
            : try await inferSchemas(sorted, instances, edges, environment, projections: projections, discovery: discovery)

        let planned = sorted.map { id in
            let entry = instances[id]!
            let spec = entry.type.spec
            return PlannedNode(id: id, spec: spec, declaration: entry.declaration, inputSchemas: inputSchemas(id, edges, plans, transforms),
                               outputSchemas: plans[id]!.outputs, work: plans[id]!.work,
                               retry: entry.declaration.retry ?? spec.defaults.retry, timeout: entry.declaration.timeout ?? spec.defaults.timeout)
        }
        var plan = ExecutionPlan(document: document, nodes: planned, edges: edges, parameters: parameters, previewNode: previewNode, edgeTransforms: transforms)
        plan.fullSchemas = firstPass.mapValues(\.outputs)
        plan.notes = plans.mapValues(\.notes).filter { !$0.value.isEmpty }
        return plan
    }

    private func portError(_ edge: EdgeDeclaration, _ end: String, _ ports: [String], output: Bool) -> ConfigError {
        let ref = end == "from" ? edge.from : edge.to
        return ConfigError(code: "unknown_port", message: "node '\(ref.node)' has no \(output ? "output" : "input") port '\(ref.port)'",
                           location: edge.location, node: ref.node, field: end, expected: "one of: \(ports.joined(separator: ", "))")
    }

    private func inputSchemas(_ id: String, _ edges: [EdgeDeclaration], _ plans: [String: NodePlan], _ transforms: [String: EdgeTransform] = [:]) -> [String: [Schema]] {
        var inputs: [String: [Schema]] = [:]
        for edge in edges where edge.kind == .data && edge.to.node == id {
            if let transform = transforms[EdgeTransform.key(edge)] {
                inputs[edge.to.port, default: []].append(transform.schema)
            } else if let schema = plans[edge.from.node]?.outputs[edge.from.port] {
                inputs[edge.to.port, default: []].append(schema)
            }
        }
        return inputs
    }

    private func inferSchemas(_ order: [String], _ instances: [String: (type: any NodeType.Type, node: any NodeType, declaration: NodeDeclaration)],
                              _ edges: [EdgeDeclaration], _ environment: ExpressionEnvironment,
                              projections: [String: Set<String>], discovery: (String) -> ValueDiscovery) async throws(ConfigErrors)
        -> (plans: [String: NodePlan], transforms: [String: EdgeTransform]) {
        let result = await inferSchemasCollecting(order, instances, edges, environment, projections: projections, discovery: discovery)
        if !result.errors.isEmpty { throw ConfigErrors(result.errors) }
        return (result.plans, result.transforms)
    }

    /// Plans the nodes in `order` (skipping those in `skipping` and everything fed by a node not planned), collecting
    /// every error.
    private func inferSchemasCollecting(_ order: [String], _ instances: [String: (type: any NodeType.Type, node: any NodeType, declaration: NodeDeclaration)],
                                        _ edges: [EdgeDeclaration], _ environment: ExpressionEnvironment,
                                        projections: [String: Set<String>], discovery: (String) -> ValueDiscovery, skipping: Set<String> = [])
        async -> (plans: [String: NodePlan], transforms: [String: EdgeTransform], errors: [ConfigError]) {
        var plans: [String: NodePlan] = [:]
        var transforms: [String: EdgeTransform] = [:]
        var errors: [ConfigError] = []
        var blocked = skipping
        for id in order {
            let upstream = edges.filter { $0.kind == .data && $0.to.node == id }.map(\.from.node)
            guard !blocked.contains(id), let entry = instances[id] else { blocked.insert(id); continue }
            if upstream.contains(where: blocked.contains) { blocked.insert(id); continue }
            var edgeFailed = false
            for edge in edges where edge.kind == .data && edge.to.node == id && edge.transforms {
                guard let schema = plans[edge.from.node]?.outputs[edge.from.port] else { continue }
                do { transforms[EdgeTransform.key(edge)] = try EdgeTransform.plan(edge, upstream: schema, environment: environment) } catch {
                    errors.append(error)
                    edgeFailed = true
                }
            }
            if edgeFailed { blocked.insert(id); continue }
            let request = PlanRequest(node: id, inputs: inputSchemas(id, edges, plans, transforms), environment: environment, projection: projections[id],
                                      discover: discovery(id))
            do {
                let plan = try await entry.node.plan(request)
                plans[id] = withRejectedPort(plan, request: request, spec: entry.type.spec, connected: edges.contains { $0.from.node == id && $0.from.port == RejectedPort.name })
            } catch {
                errors.append(error.at(node: id, location: entry.declaration.location))
                blocked.insert(id)
            }
        }
        return (plans, transforms, errors)
    }

    /// How long a check or a preview lets a node discover its columns (runs take the time they need).
    static let checkDiscoveryTime: Duration = .seconds(30)

    /// The values of `column` arriving at `node`'s input `port` (see `ValueDiscovery`): a preview of the upstream
    /// node that keeps, instead of rows, the column's distinct values after the edge's own filter.
    private func discover(_ column: String, arrivingAt node: String, _ port: String, document: PipelineDocument, edges: [EdgeDeclaration],
                          limit: Int, rows: Int?, parameters: [String: Value], now: Int64, files: FileRoots,
                          connections: ConnectionCatalog) async throws(ConfigError) -> [Value] {
        guard let edge = edges.first(where: { $0.kind == .data && $0.to.node == node && $0.to.port == port }) else {
            throw ConfigError(code: "unconnected_port", message: "input port '\(port)' is not connected", node: node, field: port)
        }
        let upstream: ExecutionPlan
        do {
            upstream = try await plan(document, parameters: parameters, now: now, files: files, connections: connections, previewNode: edge.from.node,
                                      discoveryRows: rows)
        } catch {
            throw ConfigError(code: "discovery_failed", message: "the values of '\(column)' cannot be found: \(error.errors.first?.message ?? "\(error)")", node: node)
        }
        var transform: EdgeTransform?
        if edge.transforms, let schema = upstream.node(edge.from.node)?.outputSchemas[edge.from.port] {
            transform = try EdgeTransform.plan(edge, upstream: schema, environment: ExpressionEnvironment(parameters: parameters, now: now))
        }
        var options = RunOptions(events: DiscardedEvents(), rejects: MemoryRejectStore())
        options.previewDistinct = (edge.from.port, column, transform, limit, rows)
        let result: RunResult, prepared = options
        if rows == nil {
            result = await RunExecutor().run(upstream, options: prepared)
        } else {
            // A check stays quick: past its time the discovery is cancelled and the check says so.
            let raced = await withTaskGroup(of: RunResult?.self) { group in
                group.addTask { await RunExecutor().run(upstream, options: prepared) }
                group.addTask { try? await Task.sleep(for: Self.checkDiscoveryTime); return nil }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let raced, raced.summary.status != .cancelled else {
                throw ConfigError(code: "discovery_timeout", message: "finding the values of '\(column)' took longer than \(Self.checkDiscoveryTime.components.seconds) s; list them", node: node)
            }
            result = raced
        }
        if result.summary.status == .failed {
            throw ConfigError(code: "discovery_failed", message: "finding the values of '\(column)' failed: \(result.summary.error ?? "the upstream run failed")", node: node)
        }
        return result.distinct
    }

    /// A connected `rejected` port carries the node's first data input's columns (a source's raw record) and why.
    private func withRejectedPort(_ plan: NodePlan, request: PlanRequest, spec: NodeSpec, connected: Bool) -> NodePlan {
        guard connected, plan.outputs[RejectedPort.name] == nil else { return plan }
        let input = spec.inputs.first { $0.kind == .data }.flatMap { request.inputs[$0.name]?.first }
        var outputs = plan.outputs
        outputs[RejectedPort.name] = RejectedPort.schema(input: input)
        return NodePlan(outputs: outputs, work: plan.work, notes: plan.notes)
    }

    private func ancestors(of node: String, edges: [EdgeDeclaration]) -> Set<String> {
        var result: Set<String> = [node]
        var frontier = [node]
        while let current = frontier.popLast() {
            for edge in edges where edge.to.node == current && !result.contains(edge.from.node) {
                result.insert(edge.from.node)
                frontier.append(edge.from.node)
            }
        }
        return result
    }
}

/// Kahn's algorithm with cycle reporting.
public enum TopologicalOrder {
    public struct Cycle: Error, Equatable {
        /// The nodes around the cycle, the first repeated at the end: `a → b → a`.
        public let nodes: [String]

        public init(nodes: [String]) { self.nodes = nodes }
    }

    /// Orders `nodes` so every edge goes forward; ties keep declaration order.
    public static func sort(nodes: [String], edges: [(String, String)]) -> Result<[String], Cycle> {
        var indegree = Dictionary(uniqueKeysWithValues: nodes.map { ($0, 0) })
        var successors: [String: [String]] = [:]
        for (from, to) in edges where indegree[from] != nil && indegree[to] != nil {
            successors[from, default: []].append(to)
            indegree[to]! += 1
        }
        var ready = nodes.filter { indegree[$0] == 0 }
        var sorted: [String] = []
        while !ready.isEmpty {
            let node = ready.removeFirst()
            sorted.append(node)
            for next in successors[node] ?? [] {
                indegree[next]! -= 1
                if indegree[next] == 0 { ready.append(next) }
            }
        }
        guard sorted.count < nodes.count else { return .success(sorted) }
        // Walk successors among the remaining nodes until one repeats: that walk closes the cycle.
        let remaining = Set(nodes).subtracting(sorted)
        var path: [String] = [nodes.first { remaining.contains($0) }!]
        while true {
            let next = (successors[path.last!] ?? []).first { remaining.contains($0) }!
            if let start = path.firstIndex(of: next) { return .failure(Cycle(nodes: Array(path[start...]) + [next])) }
            path.append(next)
        }
    }
}
