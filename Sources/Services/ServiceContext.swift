import BuiltinNodes
public import NodeKit
import Runtime
public import Scheduler
public import Store
import Workers

/// How accounts behave: bcrypt cost and session lifetime.
public struct AccountSettings: Sendable {
    public var bcryptCost: UInt8
    public var refreshTokenMillis: Int64

    public init(bcryptCost: UInt8 = 11, refreshTokenMillis: Int64 = 30 * 24 * 3600 * 1000) {
        self.bcryptCost = bcryptCost
        self.refreshTokenMillis = refreshTokenMillis
    }
}

/// What every service works with: the store, the vault, the run queue, the trigger dispatcher, the stored
/// connections and the compiler, plus the shared access rules (who may see a pipeline) and the audit log.
final class ServiceContext: Sendable {
    let store: MetadataStore
    let vault: Vault
    let queue: RunQueue
    let dispatcher: TriggerDispatcher
    let connections: StoredConnections
    let files: FileRoots
    let accounts: AccountSettings
    /// Pipelines open in editors: their rooms.
    let live: LiveEditing

    init(store: MetadataStore, vault: Vault, queue: RunQueue, dispatcher: TriggerDispatcher, files: FileRoots, outbound: OutboundPolicy, accounts: AccountSettings) {
        self.store = store
        self.vault = vault
        self.queue = queue
        self.dispatcher = dispatcher
        self.files = files
        self.accounts = accounts
        connections = StoredConnections(store: store, vault: vault, files: files, outbound: outbound)
        live = LiveEditing(store: store)
    }

    /// Compiles documents for this server: its workspace roots, its store's clock.
    var compiler: PipelineCompiler {
        let store = store
        return PipelineCompiler(registry: BuiltinNodes.registry, files: files, now: { store.now() * 1000 })
    }

    /// Records what `caller` did (nil for an anonymous attempt: a failed login, a reused token).
    func audit(_ caller: Caller?, _ action: String, target: String? = nil, detail: String? = nil, address: String? = nil) async throws {
        try await store.audit(actor: caller?.name, action: action, target: target, detail: detail, address: address ?? caller?.address)
    }

    /// The pipeline, when the caller's role on it is at least `needed`: 404 when it is not shared with them
    /// (not 403: its existence is not revealed), 403 when their role is too low.
    func pipeline(_ id: String, needs needed: ShareRole, for caller: Caller) async throws -> (PipelineRecord, ShareRole) {
        guard let pipeline = try await store.pipeline(id: id), let role = try await store.role(of: caller.user, on: id) else {
            throw ServiceError.notFound("pipeline '\(id)'")
        }
        guard role >= needed else { throw ServiceError.forbidden("this needs the \(needed.rawValue) role on the pipeline; you are \(role.rawValue)") }
        return (pipeline, role)
    }

    /// Plans a document against the stored connections the caller may use. Attempts to reach what is not
    /// theirs (a connection, a path outside the workspace, the store) are audited.
    func plan(_ document: PipelineDocument, for caller: Caller, parameters: RunParameters = RunParameters([:]), previewNode: String? = nil) async throws -> ExecutionPlan {
        do {
            return try await compiler.compile(document, parameters: parameters, connections: connections.resolver(actingAs: ConnectionActor(caller.user)),
                                              previewNode: previewNode)
        } catch let error as ConnectionForbidden {
            try await audit(caller, "connection_forbidden", target: document.name, detail: error.names.joined(separator: ", "))
            throw error
        } catch let errors as ConfigErrors {
            let refused = errors.errors.filter(\.isIsolationRefusal)
            if !refused.isEmpty {
                try await audit(caller, "access_refused", target: document.name,
                                detail: refused.map { "\($0.code): \($0.node ?? "?").\($0.field ?? "?")" }.joined(separator: "; "))
            }
            throw errors
        }
    }
}

/// The application services, one per area: every route, the command line and the trigger dispatcher go through
/// them, and each method takes the acting `Caller`, authorizes, audits and applies the lifecycle rules.
public struct Services: Sendable {
    public let pipelines: Pipelines
    public let runs: Runs
    public let connections: Connections
    public let triggers: Triggers
    public let users: Users
    public let sessions: Sessions
    public let vault: VaultKeeping
    public let notifications: Notifications
    public let dashboard: Dashboard
    public let files: WorkspaceFiles
    public let live: LiveEditing

    public init(store: MetadataStore, vault: Vault, queue: RunQueue, dispatcher: TriggerDispatcher, files: FileRoots,
                outbound: OutboundPolicy = .unrestricted, accounts: AccountSettings, maximumUploadBytes: Int64 = 1 << 30) {
        let context = ServiceContext(store: store, vault: vault, queue: queue, dispatcher: dispatcher, files: files, outbound: outbound, accounts: accounts)
        pipelines = Pipelines(context: context)
        runs = Runs(context: context)
        connections = Connections(context: context)
        triggers = Triggers(context: context)
        users = Users(context: context)
        sessions = Sessions(context: context)
        self.vault = VaultKeeping(context: context)
        notifications = Notifications(context: context)
        dashboard = Dashboard(context: context)
        self.files = WorkspaceFiles(context: context, maximumBytes: maximumUploadBytes)
        live = context.live
    }
}
