import BuiltinNodes
import Columnar
import Foundation
public import Logging
public import NodeKit
import Runtime
import Store
import Synchronization

/// How workers behave: identity, lease length, polling, and where relative file paths in pipelines resolve.
public struct WorkerConfiguration: Sendable {
    public var workerID: String
    /// How long a claim lasts without a heartbeat; heartbeats renew it every third of this.
    public var leaseMillis: Int64
    /// How long an idle worker waits before asking the queue again.
    public var pollInterval: Duration
    /// How often counters and logs are written to the store while a run executes.
    public var flushInterval: Duration
    /// The workspace roots file paths in pipelines are confined to (relative ones resolve against the first).
    public var files: FileRoots
    /// Which hosts pipelines' requests may reach (the server's outbound policy).
    public var outbound: OutboundPolicy = .unrestricted
    /// Where run lifecycle lines go (started, finished, handed back), each with run_id, pipeline and trace_id.
    public var logger = Logger(label: "sluice.worker")
    /// The start of a run page's URL (`https://sluice.example.com/#run/`), for links in notifications; nil: no link.
    public var runLink: String?
    /// Told about each run this process executes (the server's metrics); nil tells nobody.
    public var observer: (any RunObserver)?
    /// The directory relative file paths in pipelines resolve against.
    public var workspace: String { files.base }

    public init(workerID: String = WorkerConfiguration.defaultWorkerID(), leaseMillis: Int64 = 30_000, pollInterval: Duration = .milliseconds(200),
                flushInterval: Duration = .seconds(1), files: FileRoots) {
        self.workerID = workerID
        self.leaseMillis = leaseMillis
        self.pollInterval = pollInterval
        self.flushInterval = flushInterval
        self.files = files
    }

    /// host:pid:random, so a restarted process never reuses a dead one's identity.
    public static func defaultWorkerID() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(MetadataStore.newID().prefix(8))"
    }
}

/// Executes one claimed run: plans its revision, runs it while renewing the lease, records counters, logs
/// and rejects, and reports the outcome — or, when the lease is lost, stops and reports nothing.
struct RunWorker: Sendable {
    let queue: RunQueue
    let connections: StoredConnections
    let configuration: WorkerConfiguration
    /// Says when the process is shutting down gracefully: ordinary runs finish, but a debug run (which may wait at a
    /// breakpoint for as long as nobody answers) is stopped.
    var shutdown: (@Sendable () -> Bool) = { false }
    var store: MetadataStore { queue.store }

    enum Ending: Equatable { case finished(RunPhase), abandoned, handedBack }

    private enum Stop: Sendable { case none, cancelRequested, leaseLost, shutdown }

    /// Why the run is being stopped; the first reason wins, except that a lost lease overrides all.
    private final class StopReason: Sendable {
        private let value = Mutex(Stop.none)
        var current: Stop { value.withLock { $0 } }
        func set(_ reason: Stop) { value.withLock { if $0 == .none || reason == .leaseLost { $0 = reason } } }
    }

    func execute(_ run: RunRecord) async -> Ending {
        let stop = StopReason()
        let started = ContinuousClock.now
        var log = configuration.logger
        log[metadataKey: "run_id"] = "\(run.id)"
        log[metadataKey: "trace_id"] = "\(run.id)"
        log[metadataKey: "pipeline_id"] = "\(run.pipelineID)"
        let plan: ExecutionPlan
        do {
            let notes: [String]
            (plan, notes) = try await self.plan(run)
            if !notes.isEmpty { try? await store.appendLogs(runID: run.id, notes.map { (store.now(), .info, nil, "replay: " + $0) }) }
        } catch {
            let message = Self.message(error)
            try? await store.appendLogs(runID: run.id, [(store.now(), .error, nil, message)])
            await auditRefusal(error, run: run)
            log.error("run could not start", metadata: ["error": "\(message)", "revision": "\(run.revision)"])
            let document = try? await store.revision(pipelineID: run.pipelineID, revision: run.revision).flatMap { try? PipelineDocument.parse($0.document, file: nil) }
            var name = run.pipelineID
            if let document { name = document.name } else if let record = try? await store.pipeline(id: run.pipelineID) { name = record.name }
            let elapsed = ContinuousClock.now - started
            let ending = await finish(run, phase: .failed, error: message, rejected: 0)
            // The run is recorded first: a slow or dead receiver (and its retries) does not keep it "running".
            if case .finished = ending {
                await notify(run, own: document?.notify ?? [], succeeded: false, message: RunMessage(
                    pipeline: name, runID: run.id, status: RunPhase.failed.rawValue, error: message,
                    durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, recordsRead: 0, rejected: 0, link: nil))
            }
            return ending
        }
        log[metadataKey: "pipeline"] = "\(plan.document.name)"
        configuration.observer?.runStarted(pipeline: plan.document.name)
        log.info("run started", metadata: ["revision": "\(run.revision)", "attempt": "\(run.attempt)", "worker": "\(configuration.workerID)"])

        let progress = RunProgress(runID: run.id, pipelineID: run.pipelineID, report: queue.report, now: store.now)
        let rejects = StoreRejectStore()
        var options = RunOptions(runID: run.id, traceID: run.id, events: progress, rejects: rejects)
        let debugging = run.debug.map { _ in DebugSession(run: run, queue: queue) }
        if let debugging, let settings = run.debug {
            do {
                options.debugger = try debugging.debugger(for: settings, plan: plan)
                options.commitsOutputs = settings.commitOnFinish
            } catch {
                let message = Self.message(error)
                try? await store.appendLogs(runID: run.id, [(store.now(), .error, nil, message)])
                return await finish(run, phase: .failed, error: message, rejected: 0)
            }
        }
        // Awaited below; cancelled by the heartbeat (user cancel, lost lease) or by shutdown.
        let runOptions = options
        let runTask = Task { await RunExecutor().run(plan, options: runOptions) }
        let result = await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                // A status announced for this run while it runs (a cancel request) makes the heartbeat check at once.
                let checkNow = QueueWakeup()
                group.addTask { [bus = queue.bus] in
                    for await update in bus.subscribe() where update.runID == run.id && update.kind == .status { checkNow.signal() }
                }
                group.addTask { await heartbeat(run, stop: stop, runTask: runTask, checkNow: checkNow) }
                group.addTask { await flushLoop(run, progress: progress, rejects: rejects) }
                if let debugging, let debugger = runOptions.debugger {
                    group.addTask { await debugging.announcePauses() }
                    group.addTask { await debugging.obeyCommands(debugger, runTask: runTask) }
                    group.addTask { [shutdown, store] in
                        while !shutdown() {
                            do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
                        }
                        try? await store.appendLogs(runID: run.id, [(store.now(), .warning, nil, "the server is shutting down: the debug run stops")])
                        debugger.command(.stop)
                        runTask.cancel()
                    }
                }
                let result = await runTask.value
                group.cancelAll()
                return result
            }
        } onCancel: {
            stop.set(.shutdown)
            runTask.cancel()
        }
        await flush(run, progress: progress, rejects: rejects)
        if debugging != nil { try? await store.setDebugPause(runID: run.id, nil) }

        switch stop.current {
        case .leaseLost:
            try? await store.appendLogs(runID: run.id, [(store.now(), .warning, nil, "this worker lost the run's lease; another worker will retry it")])
            log.warning("run abandoned: this worker lost its lease; another worker will retry it")
            return .abandoned
        case .shutdown:
            try? await store.appendLogs(runID: run.id, [(store.now(), .warning, nil, "the worker shut down; the run goes back to the queue")])
            _ = try? await queue.handBack(runID: run.id, workerID: configuration.workerID)
            log.warning("run handed back: the worker is shutting down")
            return .handedBack
        case .none, .cancelRequested:
            let summary = result.summary
            let phase: RunPhase = switch summary.status {
            case .succeeded: .succeeded
            case .failed: .failed
            case .cancelled: .cancelled
            }
            let elapsed = (ContinuousClock.now - started).components
            var metadata: Logger.Metadata = [
                "status": "\(phase.rawValue)", "duration_ms": "\(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)",
                "records_in": "\(summary.nodes.filter { plan.node($0.node)?.isSource == true }.reduce(0) { $0 + $1.counts.recordsOut })",
                "rejected": "\(summary.rejected)",
            ]
            if let error = summary.error { metadata["error"] = "\(error)" }
            if phase == .failed { log.warning("run finished", metadata: metadata) } else { log.info("run finished", metadata: metadata) }
            configuration.observer?.runFinished(RunReport(
                pipeline: plan.document.name, status: phase, duration: ContinuousClock.now - started,
                nodes: summary.nodes.map { RunReport.Node(type: plan.node($0.node)?.spec.id ?? "unknown", recordsIn: $0.counts.recordsIn,
                                                          recordsOut: $0.counts.recordsOut, rejected: $0.counts.rejected) }))
            // Kept before the run shows as finished, so whoever sees it finished finds its samples.
            try? await store.saveSamples(runID: run.id, result.samples.map {
                RunSampleRecord(node: $0.node, port: $0.port, rowsSeen: Int64($0.rowsSeen), sampleJSON: $0.json)
            })
            let ending = await finish(run, phase: phase, error: summary.error, rejected: Int64(summary.rejected), nodes: progress.nodes)
            // The run is recorded first: a slow or dead receiver (and its retries) does not keep it "running". A run
            // this worker no longer owns (lease lost) is notified by the worker that finishes it.
            if case .finished = ending {
                await notify(run, own: plan.document.notify, succeeded: phase == .succeeded,
                             message: RunMessage(plan: plan, summary: summary, runID: run.id, status: phase.rawValue, link: nil))
            }
            return ending
        }
    }

    /// A run that tried to reach what its user may not (a connection, a path outside the workspace, the store)
    /// is recorded in the audit log, as the server's previews and validations are.
    private func auditRefusal(_ error: any Error, run: RunRecord) async {
        let detail: String
        let action: String
        if let forbidden = error as? ConnectionForbidden {
            (action, detail) = ("connection_forbidden", forbidden.names.joined(separator: ", "))
        } else if let errors = error as? ConfigErrors,
                  case let refused = errors.errors.filter(\.isIsolationRefusal), !refused.isEmpty {
            (action, detail) = ("access_refused", refused.map { "\($0.code): \($0.node ?? "?").\($0.field ?? "?")" }.joined(separator: "; "))
        } else {
            return
        }
        try? await store.audit(actor: run.requestedBy, action: action, target: "run \(run.id)", detail: detail)
    }

    /// Whose run this is, for the connections it may use: a trigger's runs act as the trigger's creator, others as
    /// their requester (nil when that user no longer exists: then only connections shared with everyone).
    /// Delivers the run's notifications with the connections its user may use, and logs each outcome on the run:
    /// its document's `notify:`, or when it has none, the server-wide defaults (with the connections of the admin
    /// who set them). Links point to the server's public address when one is set.
    private func notify(_ run: RunRecord, own: [RunNotification], succeeded: Bool, message: RunMessage) async {
        let defaults = (try? await store.notificationDefaults()) ?? NotificationDefaults()
        let entries = own.isEmpty ? defaults.rules.map(\.notification) : own
        guard !entries.isEmpty else { return }
        var message = message
        message.link = defaults.runLink(run.id) ?? configuration.runLink.map { $0 + run.id }
        let actor: ConnectionActor?
        if !own.isEmpty {
            actor = try? await self.actor(of: run)
        } else if let admin = defaults.updatedBy {
            actor = ConnectionActor(try? await store.user(named: admin))
        } else {
            actor = nil
        }
        let connections = self.connections
        var notifier = RunNotifier(connectors: BuiltinNodes.connectors)
        notifier.mayRetry = { [shutdown] in !shutdown() }
        let lines = await notifier.deliver(message, for: entries, succeeded: succeeded) { name in
            guard let connection = try await connections.catalog(names: [name], actingAs: actor ?? ConnectionActor(nil)).connections[name] else {
                throw NodeError(code: "unknown_connection", message: "no connection named '\(name)' that this run's user may use")
            }
            return connection
        }
        for line in lines { configuration.observer?.notificationDelivered(via: line.via, sent: line.level != .error) }
        try? await store.appendLogs(runID: run.id, lines.map { (store.now(), $0.level, nil, $0.message + (own.isEmpty ? " (server default)" : "")) })
    }

    private func actor(of run: RunRecord) async throws -> ConnectionActor {
        if let triggerID = run.triggerID, let trigger = try await store.trigger(id: triggerID) {
            return ConnectionActor(try await store.user(named: trigger.createdBy))
        }
        return ConnectionActor(try await store.user(named: run.requestedBy))
    }

    /// The run's plan; for a replay, the plan of the rewritten document (with what was rewritten, for the log).
    private func plan(_ run: RunRecord) async throws -> (ExecutionPlan, [String]) {
        guard let revision = try await store.revision(pipelineID: run.pipelineID, revision: run.revision) else {
            throw StoreError(.notFound, "revision \(run.revision) of the pipeline no longer exists")
        }
        let document = try PipelineDocument.parse(revision.document, file: "revision \(run.revision)")
        let parameters = try RunParameters(jsonText: run.parametersJSON)
        let resolver = connections.resolver(actingAs: try await actor(of: run))
        // One instant for the run and its replay: `now()` means the same in both plans.
        let started = store.now() * 1000
        let compiler = PipelineCompiler(registry: BuiltinNodes.registry, files: configuration.files, now: { started })
        let plan = try await compiler.compile(document, parameters: parameters, connections: resolver, forRun: true)
        guard let original = run.replayOf else { return (plan, []) }
        let rejects = try await store.allRejects(runID: original).map { (node: $0.node, json: $0.json) }
        let replay = try ReplayDocument.make(original: document, plan: plan, rejects: rejects,
                                             directory: configuration.workspace + "/.replay/\(run.id)", runID: run.id)
        return (try await compiler.compile(replay.document, parameters: parameters, connections: resolver, forRun: true), replay.notes)
    }

    /// Renews the run's lease every third of it, and at once when `checkNow` is signalled; stops the run when it
    /// was cancelled or its lease was lost.
    private func heartbeat(_ run: RunRecord, stop: StopReason, runTask: Task<RunResult, Never>, checkNow: QueueWakeup) async {
        var lease = LeaseStateMachine(expiresAt: run.leaseExpiresAt ?? store.now() + configuration.leaseMillis)
        let interval = Duration.milliseconds(max(configuration.leaseMillis / 3, 10))
        var seen = checkNow.generation
        while !Task.isCancelled {
            await checkNow.wait(after: seen, timeout: interval)
            if Task.isCancelled { return }
            seen = checkNow.generation
            let action: LeaseStateMachine.Action
            do {
                switch try await queue.heartbeat(runID: run.id, workerID: configuration.workerID, leaseMillis: configuration.leaseMillis) {
                case let .renewed(cancelRequested):
                    action = lease.heartbeatRenewed(expiresAt: store.now() + configuration.leaseMillis, cancelRequested: cancelRequested)
                case .lost:
                    action = lease.heartbeatLost()
                }
            } catch {
                action = lease.heartbeatFailed(now: store.now())
            }
            switch action {
            case .none: continue
            case .cancelRun:
                stop.set(.cancelRequested)
                runTask.cancel()
            case .abandonRun:
                stop.set(.leaseLost)
                runTask.cancel()
                return
            }
        }
    }

    private func flushLoop(_ run: RunRecord, progress: RunProgress, rejects: StoreRejectStore) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.flushInterval) } catch { return }
            await flush(run, progress: progress, rejects: rejects)
        }
    }

    private func flush(_ run: RunRecord, progress: RunProgress, rejects: StoreRejectStore) async {
        let (nodes, logs, steps) = progress.drain()
        if let nodes { try? await store.recordNodes(runID: run.id, nodes) }
        try? await store.appendLogs(runID: run.id, logs)
        try? await store.saveSteps(runID: run.id, steps)
        try? await store.appendRejects(runID: run.id, rejects.drain())
    }

    private func finish(_ run: RunRecord, phase: RunPhase, error: String?, rejected: Int64, nodes: [RunNodeRecord]? = nil) async -> Ending {
        let finished = (try? await queue.finish(runID: run.id, workerID: configuration.workerID, phase: phase, error: error, rejected: rejected, nodes: nodes)) ?? false
        return finished ? .finished(phase) : .abandoned
    }

    static func message(_ error: any Error) -> String {
        if let errors = error as? ConfigErrors { return errors.errors.map(\.description).joined(separator: "\n") }
        if let error = error as? VaultError { return error.message }
        if let error = error as? StoreError { return error.message }
        return "\(error)"
    }
}
