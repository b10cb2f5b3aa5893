public import Columnar
public import NodeKit
import Foundation

/// Runs pipeline tests: each test is one run of the pipeline with the nodes it names replaced by rows (or
/// fixture files), every sink replaced by a capture that writes nothing (unless the test names it a target), and
/// captures listening where it expects rows; then its expectations are checked against what arrived.
public struct PipelineTestRunner: Sendable {
    public let registry: NodeRegistry
    public let connections: ConnectionCatalog
    /// Where file paths may lead; nil: anywhere, relative to the pipeline's folder (the command line).
    public let files: FileRoots?
    /// Whether tests may name sinks that write for real (`targets:`); the server's tests write nothing.
    public let allowsTargets: Bool

    public init(registry: NodeRegistry, connections: ConnectionCatalog = .empty, files: FileRoots? = nil, allowsTargets: Bool = true) {
        self.registry = NodeRegistry(registry.types + [TestCaptureNode.self])
        self.connections = connections
        self.files = files
        self.allowsTargets = allowsTargets
    }

    /// Runs every test of `file`, one after another.
    public func run(_ file: PipelineTestFile) async -> [PipelineTestResult] {
        let document: PipelineDocument
        do { document = try PipelineDocument.load(path: file.pipeline) } catch {
            return file.tests.map { PipelineTestResult(name: $0.name, failures: ["the pipeline \(file.pipeline) is invalid:\n" + Self.describe(error)]) }
        }
        return await run(file.tests, of: document)
    }

    /// Runs `tests` against `document`, one after another.
    public func run(_ tests: [PipelineTest], of document: PipelineDocument) async -> [PipelineTestResult] {
        var results: [PipelineTestResult] = []
        for test in tests { results.append(await run(test, of: document)) }
        return results
    }

    func run(_ test: PipelineTest, of document: PipelineDocument) async -> PipelineTestResult {
        let started = ContinuousClock.now
        func result(_ failures: [String], observed: [String: CaptureBoard.Captured] = [:]) -> PipelineTestResult {
            PipelineTestResult(name: test.name, failures: failures, duration: ContinuousClock.now - started, observed: observed)
        }
        let staged: StagedTest
        switch stage(test, document) {
        case let .success(s): staged = s
        case let .failure(failure): return result([failure.message])
        }
        let plan: ExecutionPlan
        do {
            let values = try ParameterValues.resolve(staged.document.parameters, overrides: test.parameters)
            let base = URL(fileURLWithPath: document.file ?? ".").deletingLastPathComponent().path
            plan = try await Planner(registry: registry).plan(staged.document, parameters: values, now: Int64(Date().timeIntervalSince1970 * 1_000_000),
                                                            files: files ?? .unconfined(base: base), connections: connections)
        } catch {
            return result(["the pipeline cannot be planned for this test:\n" + Self.describe(error)])
        }
        let rejects = MemoryRejectStore()
        let outcome = await RunExecutor().run(plan, options: RunOptions(events: DiscardedEvents(), rejects: rejects))
        var observed: [String: CaptureBoard.Captured] = [:]
        for (node, token) in staged.captures { observed[node] = CaptureBoard.take(token) }
        var failures: [String] = []
        if outcome.summary.status != .succeeded {
            failures.append("the run \(outcome.summary.status.rawValue): \(outcome.summary.error ?? "no reason given")")
        }
        for (node, expectation) in test.expectations {
            let packets = rejects.packets.filter { $0.node == node }
            failures += ExpectationCheck(node: node, expectation: expectation, captured: observed[node], rejects: packets).failures()
        }
        return result(failures, observed: observed)
    }

    /// The pipeline as a test runs it, and the capture token of each node whose rows the test reads.
    struct StagedTest {
        var document: PipelineDocument
        var captures: [String: String]
    }

    struct StagingFailure: Error { let message: String }

    func stage(_ test: PipelineTest, _ original: PipelineDocument) -> Result<StagedTest, StagingFailure> {
        var document = original
        if !allowsTargets, let target = test.targets.keys.sorted().first {
            return .failure(StagingFailure(message: "targets write for real, which tests run here do not: '\(target)' is a target; run this test with sluice test"))
        }
        let ids = Set(document.nodes.map(\.id))
        let named = Array(test.inputs.keys) + Array(test.targets.keys) + test.expectations.map(\.node)
        if let unknown = named.first(where: { !ids.contains($0) }) {
            return .failure(StagingFailure(message: "the pipeline has no node '\(unknown)'; its nodes are: \(document.nodes.map(\.id).joined(separator: ", "))"))
        }
        var captures: [String: String] = [:]
        var added: [NodeDeclaration] = []
        var addedEdges: [EdgeDeclaration] = []
        let wanted = Dictionary(test.expectations.filter { $0.expectation.needsRows }.map { ($0.node, $0.expectation) }, uniquingKeysWith: { a, _ in a })
        for (i, node) in document.nodes.enumerated() {
            let spec = registry.resolve(node.type)?.spec
            if let input = test.inputs[node.id] {
                document.nodes[i] = Self.replacement(for: node, with: input)
                continue
            }
            let isSink = spec?.category == .sink
            if let target = test.targets[node.id] {
                guard isSink else { return .failure(StagingFailure(message: "targets are sinks that write for real; '\(node.id)' is not a sink")) }
                document.nodes[i].settings = Self.overlay(node.settings, with: target)
            }
            guard let expectation = wanted[node.id] else {
                if isSink, test.targets[node.id] == nil { document.nodes[i] = Self.capture(node.id, token: "", location: node.location) }
                continue
            }
            let token = UUID().uuidString
            captures[node.id] = token
            if isSink {
                if test.targets[node.id] == nil {
                    document.nodes[i] = Self.capture(node.id, token: token, location: node.location)
                } else {
                    // The sink writes; a capture beside it receives the same edges.
                    let id = "__test_capture_\(node.id)"
                    added.append(Self.capture(id, token: token, location: node.location))
                    for edge in document.edges where edge.kind == .data && edge.to.node == node.id {
                        var copy = edge
                        copy.to = PortReference(node: id, port: "in")
                        addedEdges.append(copy)
                    }
                }
            } else {
                let outputs = spec?.allOutputs(settings: node.settings).filter { $0.kind == .data } ?? []
                guard let port = expectation.port ?? outputs.first?.name else {
                    return .failure(StagingFailure(message: "'\(node.id)' has no data output to check"))
                }
                guard outputs.contains(where: { $0.name == port }) else {
                    return .failure(StagingFailure(message: "'\(node.id)' has no output port '\(port)'; its data outputs are: \(outputs.map(\.name).joined(separator: ", "))"))
                }
                let id = "__test_capture_\(node.id)"
                added.append(Self.capture(id, token: token, location: node.location))
                addedEdges.append(EdgeDeclaration(from: PortReference(node: node.id, port: port), to: PortReference(node: id, port: "in")))
            }
        }
        // Sinks that became captures take every data edge on their one input; replaced sources keep only the
        // ports their stand-ins have.
        for (i, edge) in document.edges.enumerated() {
            if let node = document.node(edge.to.node), node.type.name == TestCaptureNode.spec.id, edge.kind == .data {
                document.edges[i].to = PortReference(node: edge.to.node, port: "in")
            }
        }
        let nodes = document.nodes
        document.edges.removeAll { edge in
            guard test.inputs[edge.from.node] != nil, let node = nodes.first(where: { $0.id == edge.from.node }), let type = registry.resolve(node.type) else { return false }
            return !type.spec.allOutputs(settings: node.settings).contains { $0.name == edge.from.port }
        }
        document.nodes += added
        document.edges += addedEdges
        return .success(StagedTest(document: document, captures: captures))
    }

    static func capture(_ id: String, token: String, location: SourceLocation?) -> NodeDeclaration {
        NodeDeclaration(id: id, type: NodeTypeReference(name: TestCaptureNode.spec.id),
                        settings: Setting(.map([Setting.Entry(key: "token", keyLocation: nil, value: Setting(.string(token)))])), location: location)
    }

    static func replacement(for node: NodeDeclaration, with input: TestInput) -> NodeDeclaration {
        switch input {
        case let .rows(rows, schema):
            var entries = [Setting.Entry(key: "rows", keyLocation: nil, value: rows)]
            if let schema { entries.append(Setting.Entry(key: "schema", keyLocation: nil, value: schema)) }
            return NodeDeclaration(id: node.id, type: NodeTypeReference(name: "rows"), settings: Setting(.map(entries), location: rows.location), location: node.location)
        case let .file(path, schema):
            let lower = path.lowercased()
            let type = lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl.gz") ? "jsonl.read" : "csv.read"
            var entries = [Setting.Entry(key: "path", keyLocation: nil, value: Setting(.string(path)))]
            if let schema { entries.append(Setting.Entry(key: "schema", keyLocation: nil, value: schema)) }
            return NodeDeclaration(id: node.id, type: NodeTypeReference(name: type), settings: Setting(.map(entries)), location: node.location)
        }
    }

    /// `settings` with the keys of `overlay` replaced or added.
    static func overlay(_ settings: Setting, with overlay: Setting) -> Setting {
        var entries = settings.entries ?? []
        for entry in overlay.entries ?? [] {
            if let i = entries.firstIndex(where: { $0.key == entry.key }) { entries[i] = entry } else { entries.append(entry) }
        }
        return Setting(.map(entries), location: settings.location)
    }

    static func describe(_ error: any Error) -> String {
        if let errors = error as? ConfigErrors { return errors.errors.map { "  " + $0.description }.joined(separator: "\n") }
        return "  \(error)"
    }
}

/// One test's outcome: its failures (empty when it passed), how long it took, and the rows each capture saw.
public struct PipelineTestResult: Sendable {
    public let name: String
    public let failures: [String]
    public var duration: Duration = .zero
    /// The rows that reached each node the test reads, for `--update`.
    var observed: [String: CaptureBoard.Captured] = [:]

    public var passed: Bool { failures.isEmpty }

    /// A result without observed rows (a test that did not run).
    public init(name: String, failures: [String]) {
        self.init(name: name, failures: failures, duration: .zero, observed: [:])
    }

    init(name: String, failures: [String], duration: Duration, observed: [String: CaptureBoard.Captured]) {
        self.name = name
        self.failures = failures
        self.duration = duration
        self.observed = observed
    }

    /// The rows that reached `node`, each as its values by column (nil when the test did not read them).
    public func observedRows(_ node: String) -> (schema: Schema, rows: [[Value]])? {
        guard let captured = observed[node] else { return nil }
        return (captured.schema, captured.batches.flatMap { batch in (0..<batch.count).map { batch.row($0) } })
    }
}
