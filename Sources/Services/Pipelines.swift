public import Columnar
public import NodeKit
public import Runtime
import Scheduler
public import Store

/// A pipeline document as a client sends it: its text as stored (YAML/JSON as given, or a JSON object's text)
/// and its parsed form, with its declared triggers already checked.
public struct PipelineSource: Sendable {
    public let text: String
    public let document: PipelineDocument

    /// Reads a document given as text or as a JSON object; errors name line and column.
    public init(_ value: JSONValue) throws {
        switch value {
        case let .string(s): text = s
        case .object: text = value.text
        default: throw ServiceError.invalid("document must be YAML/JSON text or a JSON object", field: "document")
        }
        document = try PipelineDocument.parse(text, file: "document")
        _ = try DeclaredTriggers.definitions(document)
    }
}

/// A save: the new document, a message, and the revision the edit started from; from the live editor also the
/// last operation of the working copy the document holds (`liveSeq`).
public struct PipelineEdit: Sendable {
    public var source: PipelineSource
    public var message: String?
    public var base: Int64?
    public var liveSeq: Int64?

    public init(source: PipelineSource, message: String?, base: Int64?, liveSeq: Int64? = nil) {
        self.source = source
        self.message = message
        self.base = base
        self.liveSeq = liveSeq
    }
}

/// Pipelines: create, save (immutable revisions, stale saves refused), restore, delete, validate, share, and
/// the incremental state committed in their destinations.
public struct Pipelines: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }

    /// Pipelines shared with the caller (all, for admins), with the caller's role.
    public func list(for caller: Caller) async throws -> [(PipelineRecord, ShareRole)] {
        try await store.pipelines(visibleTo: caller.user)
    }

    /// Creates a pipeline (revision 1) owned by the caller, with the triggers its document declares.
    public func create(_ source: PipelineSource, message: String?, by caller: Caller) async throws -> PipelineRecord {
        let record = try await store.createPipeline(name: source.document.name, document: source.text, message: message ?? "created", author: caller.user)
        try await DeclaredTriggers.sync(try DeclaredTriggers.definitions(source.document), pipeline: record, store: store, author: caller.name)
        return record
    }

    /// A pipeline with its current document and the caller's role.
    public func get(_ id: String, for caller: Caller) async throws -> (record: PipelineRecord, role: ShareRole, document: String?) {
        let (pipeline, role) = try await context.pipeline(id, needs: .viewer, for: caller)
        let revision = try await store.revision(pipelineID: pipeline.id, revision: pipeline.currentRevision)
        return (pipeline, role, revision?.document)
    }

    /// Saves a new revision on top of `edit().base`; a stale base is a conflict naming the current revision. Editors only.
    /// The edit is read only once the caller is authorized, so others learn nothing from its validation.
    public func save(_ id: String, by caller: Caller, edit: () throws -> PipelineEdit) async throws -> (record: PipelineRecord, role: ShareRole, text: String) {
        let (pipeline, role) = try await context.pipeline(id, needs: .editor, for: caller)
        let edit = try edit()
        guard let base = edit.base else { throw ServiceError.invalid("base_revision is required: the revision your edit started from", field: "base_revision") }
        if let through = edit.liveSeq {
            // The live working copy, merged: its operations become this revision, their authors its contributors.
            let saved = try await context.live.save(pipeline.id, through: through, by: caller) {
                try await self.save(pipeline, text: edit.source.text, name: edit.source.document.name, message: edit.message ?? "saved", base: base, by: caller,
                                    liveThrough: through)
            }
            return (saved, role, edit.source.text)
        }
        let saved = try await save(pipeline, text: edit.source.text, name: edit.source.document.name, message: edit.message ?? "saved", base: base, by: caller)
        await context.live.revisionSaved(pipeline.id)
        return (saved, role, edit.source.text)
    }

    /// Saves an old revision's document as the new current revision. Editors only.
    public func restore(_ id: String, revision number: String, by caller: Caller) async throws -> (record: PipelineRecord, role: ShareRole, document: String) {
        let (pipeline, role) = try await context.pipeline(id, needs: .editor, for: caller)
        let old = try await revision(of: pipeline, number)
        let name = (try? PipelineDocument.parse(old.document).name) ?? pipeline.name
        let saved = try await save(pipeline, text: old.document, name: name, message: "restored revision \(old.revision)", base: pipeline.currentRevision, by: caller)
        await context.live.revisionSaved(pipeline.id)
        return (saved, role, old.document)
    }

    /// Deletes a pipeline with its revisions and runs. Owners only.
    public func delete(_ id: String, by caller: Caller) async throws {
        let (pipeline, _) = try await context.pipeline(id, needs: .owner, for: caller)
        _ = try await store.deletePipeline(id: pipeline.id)
        try await context.audit(caller, "pipeline_delete", target: pipeline.name)
    }

    /// Every revision, newest first.
    public func revisions(_ id: String, for caller: Caller) async throws -> [PipelineRevision] {
        let (pipeline, _) = try await context.pipeline(id, needs: .viewer, for: caller)
        return try await store.revisions(pipelineID: pipeline.id)
    }

    /// One revision (its number as the caller wrote it).
    public func revision(_ id: String, _ number: String, for caller: Caller) async throws -> PipelineRevision {
        let (pipeline, _) = try await context.pipeline(id, needs: .viewer, for: caller)
        return try await revision(of: pipeline, number)
    }

    /// The documents of two revisions, to compare (`to` defaults to the current one).
    public func documents(_ id: String, from: String?, to: String?, for caller: Caller) async throws -> (from: PipelineDocument, to: PipelineDocument) {
        let (pipeline, _) = try await context.pipeline(id, needs: .viewer, for: caller)
        guard let from else { throw ServiceError.invalid("give ?from=REVISION", field: "from") }
        let old = try await revision(of: pipeline, from), new = try await revision(of: pipeline, to ?? String(pipeline.currentRevision))
        return (try PipelineDocument.parse(old.document), try PipelineDocument.parse(new.document))
    }

    /// Plans a document without saving it, exactly as a run would (the caller's connections, the workspace); the
    /// plan carries every node's output schemas before projection (`fullSchemas`) and planning's notes. A
    /// document with problems throws `ConfigErrors`, carrying the schemas and notes of the nodes that could be checked.
    @discardableResult
    public func validate(_ source: PipelineSource, for caller: Caller) async throws -> ExecutionPlan {
        try await context.plan(source.document, for: caller)
    }

    /// Plans a document for a preview of one node (its upstream only).
    public func planPreview(_ source: PipelineSource, node: String, parameters: RunParameters, for caller: Caller) async throws -> ExecutionPlan {
        guard source.document.node(node) != nil else { throw ServiceError.invalid("no node '\(node)' in the document", field: "node") }
        return try await context.plan(source.document, for: caller, parameters: parameters, previewNode: node)
    }

    // MARK: Sharing

    /// Who the pipeline is shared with.
    public func shares(_ id: String, for caller: Caller) async throws -> [PipelineShare] {
        let (pipeline, _) = try await context.pipeline(id, needs: .viewer, for: caller)
        return try await store.shares(pipelineID: pipeline.id)
    }

    /// Shares the pipeline with a user in a role. Owners only.
    public func share(_ id: String, with userID: String, by caller: Caller, role text: () throws -> String) async throws -> PipelineShare {
        let (pipeline, _) = try await context.pipeline(id, needs: .owner, for: caller)
        let text = try text()
        guard let role = ShareRole(rawValue: text) else { throw ServiceError.invalid("role must be viewer, runner, editor or owner", field: "role") }
        guard let target = try await store.user(id: userID) else { throw ServiceError.notFound("user") }
        try await store.setShare(pipelineID: pipeline.id, userID: target.id, role: role)
        try await context.audit(caller, "share", target: pipeline.name, detail: "\(target.name): \(role.rawValue)")
        return PipelineShare(userID: target.id, userName: target.name, role: role)
    }

    /// Stops sharing the pipeline with a user; a pipeline keeps at least one owner. Owners only.
    public func unshare(_ id: String, with userID: String, by caller: Caller) async throws {
        let (pipeline, _) = try await context.pipeline(id, needs: .owner, for: caller)
        let shares = try await store.shares(pipelineID: pipeline.id)
        if shares.first(where: { $0.userID == userID })?.role == .owner, shares.filter({ $0.role == .owner }).count <= 1 {
            throw ServiceError(.conflict, "last_owner", "a pipeline keeps at least one owner")
        }
        try await store.setShare(pipelineID: pipeline.id, userID: userID, role: nil)
        try await context.audit(caller, "unshare", target: pipeline.name, detail: userID)
    }

    // MARK: Incremental state

    /// One source's committed state in one destination.
    public struct CommittedState: Sendable {
        public let node: String
        /// The sink whose destination holds this state.
        public let sink: String
        /// The committed state (the source's cursor), or nil when nothing was committed yet.
        public let state: String?
    }

    /// The incremental state of each source of the current revision, read from the destinations that commit it.
    public func committedStates(_ id: String, for caller: Caller) async throws -> [CommittedState] {
        let (pipeline, _) = try await context.pipeline(id, needs: .viewer, for: caller)
        let (plan, stores) = try await statefulSources(pipeline, for: caller)
        var states: [CommittedState] = []
        for (node, sinks) in stores.sorted(by: { $0.key < $1.key }) {
            for (sink, stateStore) in sinks {
                let value = try await readDestination { try await stateStore.committedState(pipeline: plan.document.name, node: node) }
                states.append(CommittedState(node: node, sink: sink, state: value))
            }
        }
        return states
    }

    /// Forgets a source's committed state in every destination, so its next run reads from the beginning;
    /// returns the sinks where state was reset. Editors only.
    public func resetState(_ id: String, node: String, by caller: Caller) async throws -> [String] {
        let (pipeline, _) = try await context.pipeline(id, needs: .editor, for: caller)
        let (plan, stores) = try await statefulSources(pipeline, for: caller)
        guard let sinks = stores[node] else { throw ServiceError.notFound("a source '\(node)' with committed state in this pipeline") }
        var reset: [String] = []
        for (sink, stateStore) in sinks where try await readDestination({ try await stateStore.resetState(pipeline: plan.document.name, node: node) }) {
            reset.append(sink)
        }
        try await context.audit(caller, "state_reset", target: "\(pipeline.name)/\(node)",
                                detail: reset.isEmpty ? "nothing was committed" : "reset in \(reset.joined(separator: ", "))")
        return reset
    }

    // MARK: Helpers

    func revision(of pipeline: PipelineRecord, _ text: String) async throws -> PipelineRevision {
        guard let number = Int64(text), let revision = try await store.revision(pipelineID: pipeline.id, revision: number) else {
            throw ServiceError.notFound("revision '\(text)'")
        }
        return revision
    }

    func save(_ pipeline: PipelineRecord, text: String, name: String, message: String, base: Int64, by caller: Caller,
              liveThrough: Int64? = nil) async throws -> PipelineRecord {
        do {
            guard let saved = try await store.savePipeline(id: pipeline.id, name: name, document: text, message: message, author: caller.user, base: base,
                                                           liveThrough: liveThrough) else {
                throw ServiceError.notFound("pipeline")
            }
            if let document = try? PipelineDocument.parse(text, file: "document") {
                try await DeclaredTriggers.sync(try DeclaredTriggers.definitions(document), pipeline: saved, store: store, author: caller.name)
            }
            return saved
        } catch let stale as StaleRevision {
            throw ServiceError(.conflict, "stale_revision", "someone saved revision \(stale.current) after the revision \(base) you edited; reload and re-apply your change",
                               extra: ["current_revision": .int(stale.current)])
        }
    }

    /// Plans the current revision (parameters at their defaults) and returns its sources with state stores downstream.
    func statefulSources(_ pipeline: PipelineRecord, for caller: Caller) async throws -> (ExecutionPlan, [String: [(sink: String, store: any StateStore)]]) {
        guard let revision = try await store.revision(pipelineID: pipeline.id, revision: pipeline.currentRevision) else {
            throw ServiceError.notFound("revision \(pipeline.currentRevision)")
        }
        let document = try PipelineDocument.parse(revision.document, file: "revision \(revision.revision)")
        let plan = try await context.plan(document, for: caller)
        let sources = Set(plan.nodes.filter(\.isSource).map(\.id))
        return (plan, plan.stateStores().filter { sources.contains($0.key) })
    }

    /// A destination that cannot be reached is a bad-gateway error naming it, not an internal one.
    func readDestination<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as NodeError {
            throw ServiceError(.badGateway, error.code, error.message)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.badGateway, "destination_unreachable", "cannot read the destination: \(error)")
        }
    }
}
