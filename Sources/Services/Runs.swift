import Foundation
import NodeKit
public import Store

/// What a run is started with: a revision (default: current), parameters, and how many attempts it gets.
public struct RunRequest: Sendable {
    public var revision: Int64?
    public var parameters: [String: String]
    public var maxAttempts: Int64?
    /// Set for a debug run (see `RunDebugging`).
    public var debug: DebugRequest?

    public init(revision: Int64? = nil, parameters: [String: String] = [:], maxAttempts: Int64? = nil, debug: DebugRequest? = nil) {
        self.revision = revision
        self.parameters = parameters
        self.maxAttempts = maxAttempts
        self.debug = debug
    }
}

/// Runs: start (parameters checked first), list what the caller may see, inspect, cancel, replay rejects, and
/// read logs and rejected records. Every change of a run's state goes through the run queue, which announces it.
public struct Runs: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }

    /// Queues a run of a revision (default: current). Parameters are checked now, so a typo is refused here
    /// rather than failing the run later. Runners only.
    public func start(pipeline id: String, by caller: Caller, request: () throws -> RunRequest) async throws -> RunRecord {
        let (pipeline, _) = try await context.pipeline(id, needs: .runner, for: caller)
        let request = try request()
        let parameters = request.parameters, maxAttempts = request.maxAttempts
        let revision = request.revision ?? pipeline.currentRevision
        guard let saved = try await store.revision(pipelineID: pipeline.id, revision: revision) else { throw ServiceError.notFound("revision \(revision)") }
        let document = try PipelineDocument.parse(saved.document, file: "revision \(revision)")
        _ = try ParameterValues.resolve(document.parameters, overrides: parameters)
        let attempts = maxAttempts ?? 3
        guard (1...10).contains(attempts) else { throw ServiceError.invalid("max_attempts must be 1 to 10", field: "max_attempts") }
        let debug = try request.debug.map { try $0.settings(for: document, controller: caller.name) }
        // A debug run waits for its controller: it is not retried behind their back.
        return try await context.queue.enqueue(pipelineID: pipeline.id, revision: revision, parametersJSON: RunParameters(parameters).jsonText,
                                               requestedBy: caller.name, maxAttempts: debug == nil ? attempts : 1, debug: debug)
    }

    /// Which runs to list.
    public struct Query: Sendable {
        public var pipeline: String?
        public var phase: RunPhase?
        public var trigger: String?
        public var limit: Int
        public var before: Int64?

        public init(pipeline: String? = nil, phase: RunPhase? = nil, trigger: String? = nil, limit: Int = 50, before: Int64? = nil) {
            self.pipeline = pipeline
            self.phase = phase
            self.trigger = trigger
            self.limit = limit
            self.before = before
        }
    }

    /// Runs of the pipelines the caller may see (all, for admins), newest first.
    public func list(_ query: Query, for caller: Caller) async throws -> [RunRecord] {
        var visible: [String]? = caller.isAdmin ? nil : try await store.pipelines(visibleTo: caller.user).map(\.0.id)
        if let pipeline = query.pipeline { visible = (visible ?? [pipeline]).filter { $0 == pipeline } }
        return try await store.runs(RunFilter(pipelineIDs: visible, phase: query.phase, triggerID: query.trigger, limit: query.limit, before: query.before))
    }

    /// A run, when the caller's role on its pipeline is at least `needed` (404 when the pipeline is not shared with them).
    public func get(_ id: String, needs needed: ShareRole = .viewer, for caller: Caller) async throws -> RunRecord {
        guard let run = try await store.run(id: id) else { throw ServiceError.notFound("run '\(id)'") }
        _ = try await context.pipeline(run.pipelineID, needs: needed, for: caller)
        return run
    }

    /// Cancels a queued run, or asks the worker running it to stop. Runners only.
    public func cancel(_ id: String, by caller: Caller) async throws -> RunRecord {
        let existing = try await get(id, needs: .runner, for: caller)
        guard let run = try await context.queue.cancel(runID: existing.id) else { throw ServiceError.notFound("run") }
        try await context.audit(caller, "run_cancel", target: run.id)
        return run
    }

    /// Queues a run that feeds a finished run's rejected records back in, through the pipeline's current
    /// revision (or `revision`). Runners only.
    public func replay(_ id: String, by caller: Caller, revision asked: () throws -> Int64?) async throws -> RunRecord {
        let original = try await get(id, needs: .runner, for: caller)
        let asked = try asked()
        guard original.phase.isFinal else { throw ServiceError(.conflict, "run_not_finished", "the run is still \(original.phase.rawValue); replay its rejects once it ends") }
        guard try await !store.rejects(runID: original.id, afterSeq: 0, limit: 1).isEmpty else {
            throw ServiceError(.unprocessable, "nothing_to_replay", "run \(original.id) rejected no records")
        }
        guard let pipeline = try await store.pipeline(id: original.pipelineID) else { throw ServiceError.notFound("pipeline") }
        let revision = asked ?? pipeline.currentRevision
        guard try await store.revision(pipelineID: pipeline.id, revision: revision) != nil else { throw ServiceError.notFound("revision \(revision)") }
        let run = try await context.queue.enqueue(pipelineID: pipeline.id, revision: revision, parametersJSON: original.parametersJSON,
                                                  requestedBy: caller.name, maxAttempts: original.maxAttempts, replayOf: original.id)
        try await context.audit(caller, "run_replay", target: run.id, detail: "replays rejects of \(original.id)")
        return run
    }

    /// Log lines of a run after `after`, waiting up to `wait` for new ones (follow); `finished` once the run ended.
    public func logs(_ id: String, after: Int64, limit: Int, wait: Duration, for caller: Caller) async throws -> (lines: [RunLogLine], next: Int64, finished: Bool) {
        let existing = try await get(id, for: caller)
        let deadline = ContinuousClock.now + wait
        while true {
            let lines = try await store.logs(runID: existing.id, afterSeq: after, limit: limit)
            let finished = try await store.run(id: existing.id)?.phase.isFinal ?? true
            if !lines.isEmpty || finished || ContinuousClock.now >= deadline {
                return (lines, lines.last?.seq ?? after, finished)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// A run's rejected records, each an error packet as JSON text.
    public func rejects(_ id: String, for caller: Caller) async throws -> [String] {
        let existing = try await get(id, for: caller)
        return try await store.allRejects(runID: existing.id).map(\.json)
    }

    /// A run's steps (SQL models, data tests) in the order they started. Anyone who may see the run sees them.
    public func steps(_ id: String, for caller: Caller) async throws -> [RunStepRecord] {
        let existing = try await get(id, for: caller)
        return try await store.steps(runID: existing.id)
    }

    /// A run's edge samples (each node output's first rows and row count), in pipeline order; one output's when
    /// `node` and `port` are given (not found when the run kept none for it). Anyone who may see the run sees them.
    public func samples(_ id: String, node: String? = nil, port: String? = nil, for caller: Caller) async throws -> [RunSampleRecord] {
        let existing = try await get(id, for: caller)
        let samples = try await store.samples(runID: existing.id, node: node, port: port)
        if let node, samples.isEmpty { throw ServiceError.notFound("sample of \(node).\(port ?? "out") in run '\(id)'") }
        return samples
    }

    /// Whether the caller may see a pipeline's runs (for live events).
    public func mayWatch(pipeline id: String, _ caller: Caller) async throws -> Bool {
        try await store.role(of: caller.user, on: id) != nil
    }
}
