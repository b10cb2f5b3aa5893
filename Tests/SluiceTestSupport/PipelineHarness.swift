import BuiltinNodes
import Columnar
import Foundation
import NodeKit
import Runtime
import Synchronization

/// A temporary directory with files, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "sluice-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func write(_ name: String, _ text: String) throws {
        try write(name, Data(text.utf8))
    }

    public func write(_ name: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    public func read(_ name: String) throws -> String {
        try String(contentsOfFile: file(name), encoding: .utf8)
    }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    public func file(_ name: String) -> String { path + "/" + name }

    public func files() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted() ?? [] }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Collects run events for assertions.
public final class EventLog: RunEventSink {
    private let storage = Mutex<[RunEvent]>([])
    public init() {}
    public func send(_ event: RunEvent) { storage.withLock { $0.append(event) } }
    public var events: [RunEvent] { storage.withLock { $0 } }
    /// The log lines nodes wrote.
    public var logs: [(node: String?, message: String)] {
        events.compactMap { if case let .log(node, _, message) = $0 { (node, message) } else { nil } }
    }

    /// Log messages written by nodes.
    public var messages: [String] {
        events.compactMap { if case let .log(_, _, message) = $0 { message } else { nil } }
    }

    /// The order in which nodes finished.
    public var finishOrder: [String] {
        events.compactMap { if case let .nodeFinished(node, _, _, _, _) = $0 { node } else { nil } }
    }

    public var startOrder: [String] {
        events.compactMap { if case let .nodeStarted(node, _) = $0 { node } else { nil } }
    }
}

/// The outcome of a test run.
public struct HarnessRun: Sendable {
    public let result: RunResult
    public let rejects: [RejectPacket]
    public let events: EventLog
    public var summary: RunSummary { result.summary }
}

/// Plans and runs pipeline documents in-process with the builtin nodes (or a given registry).
public struct PipelineHarness: Sendable {
    public let registry: NodeRegistry
    public let directory: TemporaryDirectory

    public let connections: ConnectionCatalog
    /// Where file paths may lead; nil: the user's own files, relative to the directory (standalone runs).
    public var fileRoots: FileRoots?

    public init(registry: NodeRegistry = BuiltinNodes.registry, directory: TemporaryDirectory, connections: ConnectionCatalog = .empty) {
        self.registry = registry
        self.directory = directory
        self.connections = connections
    }

    /// A harness whose connections come from `yaml` (a connections.yaml text written into the directory).
    public init(directory: TemporaryDirectory, connectionsYAML yaml: String, environment: [String: String] = [:]) throws {
        try directory.write("connections.yaml", yaml)
        self.init(directory: directory, connections: try ConnectionsFile.parse(yaml, file: directory.file("connections.yaml"),
                                                                              specs: BuiltinNodes.connectors.specs, environment: environment))
    }

    /// Parses and plans `yaml`, resolving relative paths against the temporary directory.
    public func plan(_ yaml: String, parameters: [String: String] = [:], preview: String? = nil, forRun: Bool = false) async throws -> ExecutionPlan {
        let document = try PipelineDocument.parse(yaml, file: directory.file("pipeline.yaml"))
        let compiler = PipelineCompiler(registry: registry, files: fileRoots ?? .unconfined(base: directory.path), now: { 1_700_000_000_000_000 })
        return try await compiler.compile(document, parameters: RunParameters(parameters), connections: connections, previewNode: preview, forRun: forRun)
    }

    /// The planning problems of `yaml` (empty when it is valid).
    public func problems(_ yaml: String) async -> [ConfigError] {
        do {
            _ = try await plan(yaml)
            return []
        } catch let error as ConfigErrors {
            return error.errors
        } catch {
            return [ConfigError(code: "unexpected", message: "\(error)")]
        }
    }

    /// `runID` defaults to a fresh id; pass the same one twice to act as a retried run.
    public func run(_ yaml: String, parameters: [String: String] = [:], preview: String? = nil, previewLimit: Int = 20,
                    channelCapacity: Int = 4, clock: any Clock<Duration> = ContinuousClock(), runID: String = RunOptions.newID()) async throws -> HarnessRun {
        let plan = try await plan(yaml, parameters: parameters, preview: preview, forRun: preview == nil)
        return await run(plan, previewLimit: previewLimit, channelCapacity: channelCapacity, clock: clock, runID: runID)
    }

    public func run(_ plan: ExecutionPlan, previewLimit: Int = 20, channelCapacity: Int = 4, clock: any Clock<Duration> = ContinuousClock(),
                    runID: String = RunOptions.newID()) async -> HarnessRun {
        let events = EventLog()
        let rejects = MemoryRejectStore()
        let options = RunOptions(runID: runID, events: events, rejects: rejects, channelCapacity: channelCapacity, clock: clock, previewLimit: previewLimit)
        let result = await RunExecutor().run(plan, options: options)
        return HarnessRun(result: result, rejects: rejects.packets, events: events)
    }
}

/// A clock whose sleeps return at once (retry backoff in tests without waiting); it records the requested sleeps.
public final class InstantClock: Clock, @unchecked Sendable {
    // `slept` is guarded by `lock`.
    private let lock = NSLock()
    private var _slept: [Duration] = []
    private var offset: Duration = .zero

    public init() {}

    public struct Instant: InstantProtocol {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    public var now: Instant { lock.withLock { Instant(offset: offset) } }
    public var minimumResolution: Duration { .zero }

    public var slept: [Duration] { lock.withLock { _slept } }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        lock.withLock {
            _slept.append(deadline.offset - offset)
            offset = max(offset, deadline.offset)
        }
        await Task.yield()
    }
}

/// All rows of the batches as scalars.
public func rows(_ batches: [RecordBatch]) -> [[Value]] {
    batches.flatMap { b in (0..<b.count).map { b.row($0) } }
}
