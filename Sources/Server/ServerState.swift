import BuiltinNodes
import Foundation
import Synchronization
public import NodeKit
import Prometheus
public import Scheduler
public import Services
public import Store
import Workers

/// How the server runs: where it keeps data, where it listens, how many workers it embeds, token lifetimes.
public struct ServerConfiguration: Sendable {
    public var dataDirectory: String
    public var host: String
    public var port: Int
    public var store: StoreLocation
    public var workers: Int
    public var accessTokenSeconds: Int64 = 15 * 60
    public var refreshTokenMillis: Int64 = 30 * 24 * 3600 * 1000
    public var bcryptCost: UInt8 = 11
    public var leaseMillis: Int64 = 30_000
    /// Whether this server takes part in scheduling triggers (one server at a time holds the role).
    public var scheduling = true
    /// The largest file `POST /api/v1/files` accepts.
    public var maximumUploadBytes: Int64 = 1 << 30

    /// The workspace roots: every file path a pipeline run by the server reads or writes must lie inside one
    /// (the first is where relative paths resolve). Empty means `<data-dir>/files`.
    public var filesRoots: [String] = []

    public init(dataDirectory: String, host: String = "127.0.0.1", port: Int = 8080, store: StoreLocation? = nil, workers: Int = 2) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.store = store ?? .sqlite(path: dataDirectory + "/sluice.db")
        self.workers = workers
    }

    /// Relative file paths in pipelines resolve here (the first workspace root).
    public var workspace: String { filesRoots.first ?? dataDirectory + "/files" }

    /// The workspace roots, each an absolute path.
    public var workspaceRoots: [String] { filesRoots.isEmpty ? [workspace] : filesRoots }

    /// The file holding the key that signs access tokens (`--jwt-key-file`; default in the data directory).
    public var jwtKeyFile: String?
    public var signingKeyFile: String { jwtKeyFile ?? dataDirectory + "/jwt.key" }

    /// The server's own files, which no pipeline path may name: the SQLite store and its journals, the signing key.
    public var storeFiles: [String] {
        guard case let .sqlite(path) = store else { return [signingKeyFile] }
        return [path, path + "-wal", path + "-shm", path + "-journal", signingKeyFile]
    }

    /// HTTPS for the listener (`--tls-cert`, `--tls-key`); nil serves plain HTTP.
    public var tls: ServerTLS?

    /// Whether pipelines and triggers may send requests to loopback, link-local and the store's host.
    public var allowPrivateNetwork = false

    /// Which hosts server-run requests may reach (`--allow-private-network` lifts the limits).
    public var outbound: OutboundPolicy {
        guard case let .postgres(store) = store else { return OutboundPolicy(allowsPrivateNetwork: allowPrivateNetwork) }
        return OutboundPolicy(allowsPrivateNetwork: allowPrivateNetwork, forbiddenHosts: [store.host])
    }

    /// What file paths in pipelines may reach: the workspace roots, never the store's files.
    public var fileRoots: FileRoots { .confined(to: workspaceRoots, forbidding: storeFiles) }
}

/// A server setting that cannot work (named in the message); `sluice serve` exits with it before listening.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Everything a route needs, shared by all requests: store, vault, auth, event bus, metrics.
public final class ServerState: Sendable {
    public let configuration: ServerConfiguration
    public let store: MetadataStore
    public let vault: Vault
    public let bus: any EventBus
    let authenticator: Authenticator
    let metrics: PrometheusCollectorRegistry
    /// Runs, records, the queue and reclaims, for `/metrics`.
    let runMetrics: RunMetrics
    /// The worker pools this process started (their busy slots are a metric).
    private let pools = Mutex<[WorkerPool]>([])
    let requests: Counter
    let failures: Counter
    let connections: StoredConnections
    /// Every change of a run's state, with its announcement.
    public let queue: RunQueue
    /// Turns trigger events into runs (webhooks, fire now, and the scheduler).
    public let dispatcher: TriggerDispatcher
    /// What every route calls: pipelines, runs, connections, triggers, users, sessions, the vault.
    public let services: Services

    init(configuration: ServerConfiguration, store: MetadataStore, vault: Vault, bus: any EventBus, authenticator: Authenticator, metrics: PrometheusCollectorRegistry) {
        self.configuration = configuration
        self.store = store
        self.vault = vault
        self.bus = bus
        self.authenticator = authenticator
        self.metrics = metrics
        requests = metrics.makeCounter(descriptor: MetricNameDescriptor(namespace: "sluice", metricName: "http_requests", unitName: "total",
                                                                         helpText: "HTTP API requests served"))
        failures = metrics.makeCounter(descriptor: MetricNameDescriptor(namespace: "sluice", metricName: "http_errors", unitName: "total",
                                                                         helpText: "HTTP API requests answered with a 5xx status"))
        connections = StoredConnections(store: store, vault: vault, files: configuration.fileRoots, outbound: configuration.outbound)
        queue = RunQueue(store: store, bus: bus)
        let runMetrics = RunMetrics(registry: metrics)
        self.runMetrics = runMetrics
        var dispatcher = TriggerDispatcher(queue: queue)
        dispatcher.onFiring = { kind, outcome in runMetrics.triggerFired(kind: kind, outcome: outcome) }
        dispatcher.onScheduleLag = { kind, lag in runMetrics.scheduleLag(kind: kind, lag) }
        self.dispatcher = dispatcher
        services = Services(store: store, vault: vault, queue: queue, dispatcher: dispatcher, files: configuration.fileRoots, outbound: configuration.outbound,
                            accounts: AccountSettings(bcryptCost: configuration.bcryptCost, refreshTokenMillis: configuration.refreshTokenMillis),
                            maximumUploadBytes: configuration.maximumUploadBytes)
    }

    /// The scheduler for this server's triggers: watermark triggers query the stored connections, mailbox
    /// triggers log in with them and save attachments under the workspace's `trigger-files/`.
    public func scheduler() -> TriggerScheduler {
        let connections = connections
        @Sendable func connection(_ name: String) async throws -> Connection {
            let catalog = try await connections.catalog(names: [name])
            guard let connection = catalog.connections[name] else {
                throw TriggerConfigError("unknown_connection", "no connection named '\(name)'", field: "settings.connection")
            }
            return connection
        }
        let probes = TriggerProbes(connection: connection, connectors: BuiltinNodes.connectors, filesDirectory: configuration.workspace + "/trigger-files",
                                   files: configuration.fileRoots, outbound: configuration.outbound)
        return TriggerScheduler(store: store, dispatcher: dispatcher, probes: probes)
    }

    /// Opens the store (migrating it), loads the signing key, and prepares the vault (still locked).
    /// Without a `bus`, a PostgreSQL store gets one over LISTEN/NOTIFY (so every process sees every run) and SQLite a local one.
    public static func open(_ configuration: ServerConfiguration, bus: (any EventBus)? = nil,
                            now: @escaping @Sendable () -> Int64 = MetadataStore.systemNow) async throws -> ServerState {
        // The data directory holds the store and its keys: only this account may enter it (created 0700,
        // tightened if it was looser), and the SQLite store's files are 0600 (SQLite gives its journals the same).
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(configuration.dataDirectory, 0o700)
        for root in configuration.workspaceRoots {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
        // The store must never be inside a workspace root: refuse to start rather than rely on the per-path check alone.
        for file in [configuration.storeFiles.first, configuration.signingKeyFile].compactMap({ $0 }) where configuration.fileRoots.contains(file) {
            throw ServerConfigurationError("\(file) (the server's own store or key) is inside a workspace root (\(configuration.workspaceRoots.joined(separator: ", "))); choose a --files-root that does not contain the data directory")
        }
        var store = try await MetadataStore.open(configuration.store, now: now)
        let metrics = PrometheusCollectorRegistry()
        let storeLatency = metrics.makeDurationHistogram(
            descriptor: RunMetrics.name("store_transaction_duration", unit: "seconds", "Wall time of metadata store transactions (queries and writes)"),
            buckets: RunMetrics.storeBuckets)
        store.onTransaction = { storeLatency.record($0) }
        for file in configuration.storeFiles where FileManager.default.fileExists(atPath: file) { chmod(file, 0o600) }
        let bus = bus ?? ((store.database as? PostgresStoreDatabase).map { PostgresEventBus(database: $0) } ?? LocalEventBus())
        let authenticator = try await Authenticator.make(store: store, keyFile: configuration.signingKeyFile, accessLifetimeSeconds: configuration.accessTokenSeconds)
        return ServerState(configuration: configuration, store: store, vault: Vault(store: store), bus: bus, authenticator: authenticator, metrics: metrics)
    }

    /// Stops the event bus and closes the store.
    public func close() async {
        if let bus = bus as? PostgresEventBus { await bus.close() }
        await store.database.close()
    }

    /// The worker pool that executes runs from this server's store.
    public func workerPool(count: Int) -> WorkerPool {
        var workers = WorkerConfiguration(leaseMillis: configuration.leaseMillis, files: configuration.fileRoots)
        workers.outbound = configuration.outbound
        workers.observer = runMetrics
        let pool = WorkerPool(store: store, vault: vault, bus: bus, configuration: workers, count: count)
        pools.withLock { $0.append(pool) }
        return pool
    }

    /// Runs executing in this process now.
    var activeRunCount: Int { pools.withLock { $0.reduce(0) { $0 + $1.activeRuns.count } } }

    /// Brings the metrics read at scrape time up to date (queue, busy slots).
    func refreshMetrics() async {
        await runMetrics.refresh(store: store, activeRuns: activeRunCount)
    }
}
