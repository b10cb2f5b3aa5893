import Foundation
import Logging
import SluiceTestSupport
import Store
import Synchronization
import Testing
import Workers

/// Workers log each run's start and end with its run id, pipeline and trace id, so a log collector can follow a run.
@Suite struct RunLogTests {
    /// Keeps what loggers wrote, per event.
    final class Captured: Sendable {
        let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])
    }

    struct CapturingHandler: LogHandler {
        let captured: Captured
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let merged = metadata.merging(explicit ?? [:]) { _, new in new }
            captured.lines.withLock { $0.append((level, message.description, merged)) }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aRunsStartAndEndAreLoggedWithItsIdentity() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", "id\n1\n2\n3\n")
        let store = try await MetadataStore.open(.sqlite(path: dir.file("store.db")))
        let captured = Captured()
        var configuration = WorkerConfiguration(pollInterval: .milliseconds(50), files: .unconfined(base: dir.path))
        configuration.logger = Logger(label: "sluice.worker") { _ in CapturingHandler(captured: captured) }
        let bus = LocalEventBus()
        let pool = WorkerPool(store: store, vault: Vault(store: store), bus: bus, configuration: configuration, count: 1)
        let running = Task { await pool.run() }
        let user = try await store.createUser(name: "ada", role: .admin, passwordHash: "x")
        let document = """
        apiVersion: sluice/v1
        name: nightly-copy
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: out.in}
        """
        let pipeline = try await store.createPipeline(name: "nightly-copy", document: document, message: "", author: user)
        let run = try await RunQueue(store: store, bus: bus).enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
        while try await store.run(id: run.id)?.phase.isFinal != true { try await Task.sleep(for: .milliseconds(20)) }
        pool.stopClaiming()
        running.cancel()
        await running.value
        await store.database.close()

        let lines = captured.lines.withLock { $0 }
        let started = try #require(lines.first { $0.message == "run started" })
        let finished = try #require(lines.first { $0.message == "run finished" })
        for line in [started, finished] {
            #expect(line.metadata["run_id"]?.description == run.id && line.metadata["trace_id"]?.description == run.id)
            #expect(line.metadata["pipeline"]?.description == "nightly-copy" && line.metadata["pipeline_id"]?.description == pipeline.id)
        }
        #expect(finished.metadata["status"]?.description == "succeeded" && finished.metadata["records_in"]?.description == "3")
        #expect(finished.metadata["duration_ms"] != nil)
    }
}
