import Foundation
import Prometheus
import Store
import Workers

/// The server's Prometheus metrics beyond HTTP requests: runs this process executed (by pipeline and status,
/// with a duration histogram), records by node type, lease reclaims, and, refreshed when `/metrics` is read,
/// the queue's depth and the age of its oldest run and the worker slots busy. Labels are bounded: pipeline
/// names, statuses and node types, never run ids.
final class RunMetrics: RunObserver {
    let registry: PrometheusCollectorRegistry
    private let reclaims: Counter
    private let queueDepth: Gauge
    private let queueOldest: Gauge
    private let slotsBusy: Gauge
    private let websocketClients: Gauge

    static let durationBuckets: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
                                              .seconds(300), .seconds(900), .seconds(3600)]

    static let storeBuckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
                                           .milliseconds(500), .seconds(1), .seconds(5)]
    static let lagBuckets: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(15), .seconds(60), .seconds(300)]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        reclaims = registry.makeCounter(descriptor: Self.name("lease_reclaims", unit: "total", "Runs reclaimed because their worker stopped answering"))
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", unit: "", "Runs waiting in the queue"))
        queueOldest = registry.makeGauge(descriptor: Self.name("queue_oldest_age", unit: "seconds", "Age of the oldest queued run (0 when none waits)"))
        slotsBusy = registry.makeGauge(descriptor: Self.name("worker_slots_busy", unit: "", "Runs executing in this process"))
        websocketClients = registry.makeGauge(descriptor: Self.name("websocket_clients", unit: "", "Clients connected to the live events"))
    }

    static func name(_ metric: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sluice", metricName: metric, unitName: unit, helpText: help)
    }

    func runStarted(pipeline: String) {
        registry.makeCounter(descriptor: Self.name("runs_started", unit: "total", "Runs this process started"), labels: [("pipeline", pipeline)]).increment()
    }

    func runFinished(_ report: RunReport) {
        registry.makeCounter(descriptor: Self.name("runs", unit: "total", "Runs this process finished, by pipeline and status"),
                             labels: [("pipeline", report.pipeline), ("status", report.status.rawValue)]).increment()
        registry.makeDurationHistogram(descriptor: Self.name("run_duration", unit: "seconds", "Wall time of finished runs"),
                                       labels: [("status", report.status.rawValue)], buckets: Self.durationBuckets).record(report.duration)
        for node in report.nodes {
            let records = Self.name("records", unit: "total", "Records through nodes, by node type and direction (in, out, rejected)")
            if node.recordsIn > 0 { registry.makeCounter(descriptor: records, labels: [("node_type", node.type), ("direction", "in")]).increment(by: Int64(node.recordsIn)) }
            if node.recordsOut > 0 { registry.makeCounter(descriptor: records, labels: [("node_type", node.type), ("direction", "out")]).increment(by: Int64(node.recordsOut)) }
            if node.rejected > 0 { registry.makeCounter(descriptor: records, labels: [("node_type", node.type), ("direction", "rejected")]).increment(by: Int64(node.rejected)) }
        }
    }

    func leasesReclaimed(_ count: Int) { reclaims.increment(by: Int64(count)) }

    /// A trigger firing recorded by this process (the scheduler, webhooks, fire now).
    func triggerFired(kind: String, outcome: String) {
        registry.makeCounter(descriptor: Self.name("trigger_firings", unit: "total", "Trigger firings recorded by this process, by kind and outcome"),
                             labels: [("kind", kind), ("outcome", outcome)]).increment()
    }

    /// How late a scheduled firing (cron, interval) was, from its scheduled time to its recording.
    func scheduleLag(kind: String, _ lag: Duration) {
        registry.makeDurationHistogram(descriptor: Self.name("scheduler_lag", unit: "seconds", "Delay between a schedule's fire time and its firing, by trigger kind"),
                                       labels: [("kind", kind)], buckets: Self.lagBuckets).record(lag)
    }

    /// A run notification delivered or given up on (after its retries), by channel.
    func notificationDelivered(via: String, sent: Bool) {
        registry.makeCounter(descriptor: Self.name("notifications", unit: "total", "Run notifications by channel and outcome (sent, failed)"),
                             labels: [("via", via), ("outcome", sent ? "sent" : "failed")]).increment()
    }

    func websocketOpened() { websocketClients.increment() }
    func websocketClosed() { websocketClients.decrement() }

    /// Reads the queue and the busy slots just before the registry is written out.
    func refresh(store: MetadataStore, activeRuns: Int) async {
        slotsBusy.set(Int64(activeRuns))
        guard let stats = try? await store.queueStats() else { return }
        queueDepth.set(Int64(stats.depth))
        queueOldest.set(stats.oldestQueuedAt.map { Double(max(0, store.now() - $0)) / 1000 } ?? 0)
    }
}
