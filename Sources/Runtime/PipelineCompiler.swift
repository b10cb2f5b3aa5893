import Columnar
public import NodeKit

/// The one way from a pipeline document to an execution plan, used by `sluice run/validate/preview`, the
/// server's validate and preview routes, its workers and its state routes.
///
/// Inputs: the document, the run's parameters as text (typed here against the declarations), a
/// `ConnectionResolver` (a connections file, or the server's store acting as the run's user), where file
/// paths may lead, and a clock. Every problem is a `ConfigErrors`; a connection the user may not use is the
/// resolver's error.
public struct PipelineCompiler: Sendable {
    public let registry: NodeRegistry
    public let files: FileRoots
    /// Unix microseconds now (the value of `now()` in expressions).
    public let now: @Sendable () -> Int64

    public init(registry: NodeRegistry, files: FileRoots, now: @escaping @Sendable () -> Int64) {
        self.registry = registry
        self.files = files
        self.now = now
    }

    /// Rows a check or a preview lets a node discovering its columns read (a run reads all; see `ValueDiscovery`).
    public static let checkDiscoveryRows = 100_000

    /// Plans `document`; `previewNode` keeps only that node and its data upstream, with sinks disabled. `forRun`
    /// plans for a run: nodes discovering their columns read all their input, not only the first rows.
    public func compile(_ document: PipelineDocument, parameters: RunParameters = RunParameters(), connections: any ConnectionResolver,
                        previewNode: String? = nil, forRun: Bool = false) async throws -> ExecutionPlan {
        let catalog = try await connections.catalog(for: document.connectionNames)
        let values = try ParameterValues.resolve(document.parameters, overrides: parameters.values)
        return try await Planner(registry: registry).plan(document, parameters: values, now: now(), files: files, connections: catalog,
                                                         previewNode: previewNode, discoveryRows: forRun ? nil : Self.checkDiscoveryRows)
    }
}
