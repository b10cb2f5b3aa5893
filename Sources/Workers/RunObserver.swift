public import Store

/// Told about the runs a process executes, as they happen (the server's Prometheus metrics).
public protocol RunObserver: Sendable {
    func runStarted(pipeline: String)
    func runFinished(_ report: RunReport)
    /// Runs whose worker stopped answering were reclaimed (requeued or failed).
    func leasesReclaimed(_ count: Int)
    /// A run notification was delivered (`sent`) or given up on after its retries.
    func notificationDelivered(via: String, sent: Bool)
}

/// How one run ended: its pipeline, status, wall time, and each node's type and counters.
public struct RunReport: Sendable {
    public struct Node: Sendable {
        public let type: String
        public let recordsIn: Int
        public let recordsOut: Int
        public let rejected: Int
    }

    public let pipeline: String
    public let status: RunPhase
    public let duration: Duration
    public let nodes: [Node]
}
