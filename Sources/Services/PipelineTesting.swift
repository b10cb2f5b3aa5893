import BuiltinNodes
import Foundation
import NodeKit
import Store
import Workers
public import Runtime
import Synchronization

extension Pipelines {
    /// The most tests one request runs, and how long they may take together.
    static let maxTests = 100
    static let testTimeLimit: Duration = .seconds(60)

    /// Runs the tests a pipeline's document carries under `tests:` (the draft given, or the current revision) as
    /// the caller: it needs the runner role, uses only connections the caller may use and files inside the
    /// workspace, and writes nothing (a test naming targets fails). Tests still running after 60 s fail as
    /// not finished.
    public func runTests(_ id: String, draft: PipelineSource?, for caller: Caller) async throws -> [PipelineTestResult] {
        let (pipeline, _) = try await context.pipeline(id, needs: .runner, for: caller)
        let document: PipelineDocument
        if let draft {
            document = draft.document
        } else {
            guard let revision = try await store.revision(pipelineID: pipeline.id, revision: pipeline.currentRevision) else {
                throw ServiceError.notFound("revision \(pipeline.currentRevision)")
            }
            document = try PipelineDocument.parse(revision.document, file: "revision \(revision.revision)")
        }
        let tests = try PipelineTestFile.embedded(in: document)
        guard !tests.isEmpty else { throw ServiceError.invalid("the pipeline has no tests: add a tests: list to its document", field: "document") }
        guard tests.count <= Self.maxTests else { throw ServiceError.invalid("at most \(Self.maxTests) tests run at once; the pipeline has \(tests.count)", field: "document") }
        let catalog = try await context.connections.resolver(actingAs: ConnectionActor(caller.user)).catalog(for: document.connectionNames)
        let runner = PipelineTestRunner(registry: BuiltinNodes.registry, connections: catalog, files: context.files, allowsTargets: false)
        let finished = FinishedTests()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for test in tests {
                    guard !Task.isCancelled else { return }
                    let result = await runner.run([test], of: document)
                    finished.results.withLock { $0 += result }
                }
            }
            group.addTask { try? await Task.sleep(for: Self.testTimeLimit) }
            await group.next()
            group.cancelAll()
        }
        let results = finished.results.withLock { $0 }
        return results + tests.dropFirst(results.count).map {
            PipelineTestResult(name: $0.name, failures: ["not finished: the tests took longer than \(Self.testTimeLimit.components.seconds) s together"])
        }
    }
}

/// The results of the tests finished so far (the rest fail as unfinished when time runs out).
private final class FinishedTests: Sendable {
    let results = Mutex<[PipelineTestResult]>([])
}
