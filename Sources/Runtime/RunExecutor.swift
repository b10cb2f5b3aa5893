public import Columnar
import NodeKit
import Foundation

/// How to run a plan: identities, where events and rejects go, channel sizes and the clock.
public struct RunOptions: Sendable {
    public var runID: String
    public var traceID: String
    public var events: any RunEventSink
    public var rejects: any RejectStore
    /// Batches buffered per edge; memory per edge is bounded by capacity × batch size.
    public var channelCapacity: Int
    public var progressInterval: Duration
    public var clock: any Clock<Duration>
    /// Rows to collect when the plan previews a node.
    public var previewLimit: Int
    /// Set when a preview discovers a column's values instead of collecting rows (see `ValueDiscovery`).
    var previewDistinct: (port: String, column: String, edge: EdgeTransform?, limit: Int, rows: Int?)?
    /// Set for a debug run: pauses the run at its breakpoints (node timeouts do not apply while it is set).
    public var debugger: RunDebugger?
    /// False for a debug run that was not asked to commit: sinks abort their output (as in a failed run) and the
    /// run still succeeds.
    public var commitsOutputs = true

    public init(runID: String = RunOptions.newID(), traceID: String = RunOptions.newID(), events: any RunEventSink, rejects: any RejectStore,
                channelCapacity: Int = 4, progressInterval: Duration = .milliseconds(250), clock: any Clock<Duration> = ContinuousClock(), previewLimit: Int = 20) {
        self.runID = runID
        self.traceID = traceID
        self.events = events
        self.rejects = rejects
        self.channelCapacity = channelCapacity
        self.progressInterval = progressInterval
        self.clock = clock
        self.previewLimit = previewLimit
    }

    /// A random 128-bit identifier in lowercase hex.
    public static func newID() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// The outcome of a run: its summary and, for previews, the collected rows (or discovered values).
public struct RunResult: Sendable {
    public let summary: RunSummary
    public let preview: [RecordBatch]
    var distinct: [Value] = []
    /// Each node output's first rows and row count (`sampleRows`), in pipeline order; none for previews.
    public var samples: [EdgeSample] = []
}

/// Runs an `ExecutionPlan`: one task group per run, one child task per node, bounded channels on edges.
///
/// Cancelling the calling task (Ctrl-C) tears the run down: channels fail, nodes stop, pending
/// sink commits are aborted, so no half-written output becomes visible.
public struct RunExecutor: Sendable {
    public init() {}

    public func run(_ plan: ExecutionPlan, options: RunOptions) async -> RunResult {
        let started = ContinuousClock.now
        // One channel per connected input port; fan-in ports get one producer per edge.
        var inputChannels: [String: [String: BoundedChannel<RecordBatch>]] = [:]
        var outputChannels: [String: [String: [EdgeOutput]]] = [:]
        var all: [BoundedChannel<RecordBatch>] = []
        for node in plan.nodes {
            for port in node.spec.inputs where port.kind == .data {
                let producers = plan.dataEdges.filter { $0.to.node == node.id && $0.to.port == port.name }.count
                guard producers > 0 else { continue }
                let channel = BoundedChannel<RecordBatch>(capacity: options.channelCapacity, producers: producers)
                inputChannels[node.id, default: [:]][port.name] = channel
                all.append(channel)
            }
        }
        for edge in plan.dataEdges {
            if let channel = inputChannels[edge.to.node]?[edge.to.port] {
                outputChannels[edge.from.node, default: [:]][edge.from.port, default: []].append(
                    EdgeOutput(channel: channel, transform: plan.edgeTransforms[EdgeTransform.key(edge)], edge: "\(edge.from) → \(edge.to)",
                               point: .edge(from: "\(edge.from)", to: "\(edge.to)")))
            }
        }
        // A failure branch (the targets of `failed` edges and everything after them) runs after a failure: its
        // channels are not failed by the teardown, and its nodes are not cancelled with the rest.
        let failureBranch = plan.failureBranch()
        let coordinator = RunCoordinator(channels: inputChannels.filter { !failureBranch.contains($0.key) }.flatMap { Array($0.value.values) })
        let inputsByNode = inputChannels, outputsByNode = outputChannels
        // Upstream and downstream reachability over data edges, for committing source state with sink data.
        let ancestorsByNode = plan.upstreamNodes().mapValues { Array($0).sorted() }
        let commitWaits = plan.commitWaits()
        let storesByNode = plan.stateStores().mapValues { $0.map(\.store) }
        let collector = plan.previewNode.map { _ in
            PreviewCollector(options.previewDistinct.map { .distinct(column: $0.column, edge: $0.edge, limit: $0.limit, rows: $0.rows) } ?? .rows(limit: options.previewLimit))
        }
        let sampler = EdgeSampler(plan: plan)
        let slots = plan.document.settings.maxConcurrency > 0 ? SourceSlots(plan.document.settings.maxConcurrency) : nil
        options.events.send(.runStarted(runID: options.runID, traceID: options.traceID, pipeline: plan.document.name, nodes: plan.nodes.map(\.id)))

        @Sendable func context(_ node: PlannedNode) -> NodeRunContext {
            var context = NodeRunContext(
                node: node.id, runID: options.runID, traceID: options.traceID, isPreview: plan.previewNode != nil,
                inputs: inputsByNode[node.id] ?? [:], outputs: outputsByNode[node.id] ?? [:], coordinator: coordinator,
                events: options.events, rejects: options.rejects, settings: plan.document.settings,
                collector: node.id == plan.previewNode ? collector : nil,
                collectedPort: options.previewDistinct?.port ?? node.spec.outputs.first { $0.kind == .data }?.name,
                pipeline: plan.document.name, rejectedSchema: outputsByNode[node.id]?[RejectedPort.name] == nil ? nil : node.outputSchemas[RejectedPort.name],
                ancestors: ancestorsByNode[node.id] ?? [], stores: storesByNode[node.id] ?? [])
            context.samplers = sampler.ports(of: node.id)
            context.debugger = options.debugger
            return context
        }

        await withTaskCancellationHandler {
            await withTaskGroup(of: Bool.self) { outer in
                outer.addTask {
                    // The failure branch runs beside the rest, so the rest's teardown does not cancel it.
                    await withTaskGroup(of: Void.self) { parts in
                        for inBranch in [false, true] {
                            parts.addTask {
                                await withTaskGroup(of: Void.self) { group in
                                    for node in plan.nodes where failureBranch.contains(node.id) == inBranch {
                                        var driver = NodeDriver(
                                            node: node, context: context(node), options: options, coordinator: coordinator, slots: node.isSource ? slots : nil,
                                            signals: plan.signalEdges.filter { $0.to.node == node.id }.map { SignalRequirement(node: $0.from.node, wantsFailure: $0.from.port == "failed") },
                                            inFailureBranch: inBranch, producers: Set(plan.dataEdges.filter { $0.to.node == node.id }.map(\.from.node)))
                                        driver.commitWaits = commitWaits[node.id] ?? []
                                        let ready = driver
                                        group.addTask { await ready.run() }
                                    }
                                    // A teardown interrupts nodes blocked on I/O; a failure branch only a cancellation.
                                    for await _ in group where inBranch ? coordinator.isCancelled : coordinator.isTearingDown { group.cancelAll() }
                                }
                            }
                        }
                    }
                    return true
                }
                outer.addTask {
                    while !Task.isCancelled {
                        do { try await options.clock.sleep(for: options.progressInterval) } catch { break }
                        for (node, counts) in coordinator.runningCounts() { options.events.send(.nodeProgress(node: node, counts: counts)) }
                    }
                    return false
                }
                _ = await outer.next()
                outer.cancelAll()
            }
        } onCancel: {
            coordinator.cancel()
        }

        let final = coordinator.allNodesEnded()
        options.rejects.close()
        let status: RunStatus
        var error: String?
        switch final {
        case .succeeded: status = .succeeded
        case let .failed(reason): status = .failed; error = reason
        case .cancelled where coordinator.previewComplete: status = .succeeded
        default: status = .cancelled; error = "run cancelled"
        }
        let summary = RunSummary(
            runID: options.runID, traceID: options.traceID, status: status, error: error,
            nodes: plan.nodes.map { ($0.id, coordinator.outcome($0.id) ?? .cancelled, coordinator.counts($0.id)) },
            rejected: coordinator.totalRejected, rejectLocation: coordinator.totalRejected > 0 ? options.rejects.location : nil,
            duration: ContinuousClock.now - started)
        options.events.send(.runFinished(summary))
        return RunResult(summary: summary, preview: collector?.collected ?? [], distinct: collector?.distinct ?? [], samples: sampler.samples)
    }
}
