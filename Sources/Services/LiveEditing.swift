import Synchronization
public import Store

/// Live editing of pipelines (the protocol is in docs/server.md, "Live editing"): everyone who has a pipeline
/// open in the editor joins its room; operations are ordered per pipeline by the server and broadcast, presence
/// (pointers, selections, open settings) is forwarded, and the merged working copy is stored as it changes, so
/// it survives a restart until someone saves it. Rooms live in this process; their state is in the store.
public final class LiveEditing: Sendable {
    private let store: MetadataStore
    private let rooms = Mutex<[String: LiveRoom]>([:])

    init(store: MetadataStore) {
        self.store = store
    }

    private func room(_ pipelineID: String) -> LiveRoom {
        rooms.withLock { rooms in
            if let room = rooms[pipelineID] { return room }
            let room = LiveRoom(pipelineID: pipelineID, store: store)
            rooms[pipelineID] = room
            return room
        }
    }

    private func existingRoom(_ pipelineID: String) -> LiveRoom? { rooms.withLock { $0[pipelineID] } }

    /// Joins the caller's editor tab (`client`, an id the tab chose) to the pipeline's room; the outbox first
    /// gets the whole working copy (`joined`). Viewers and runners join too: they see, but may not change.
    public func join(_ pipelineID: String, client: String, by caller: Caller, outbox: LiveOutbox) async throws {
        guard !client.isEmpty, client.count <= 100 else { throw ServiceError.invalid("client is the editor tab's id (1 to 100 characters)", field: "client") }
        guard try await store.pipeline(id: pipelineID) != nil, let role = try await store.role(of: caller.user, on: pipelineID) else {
            throw ServiceError.notFound("pipeline '\(pipelineID)'")
        }
        try await room(pipelineID).join(client: client, user: caller.user, role: role, outbox: outbox)
    }

    public func leave(_ pipelineID: String, client: String, session: String) async {
        await existingRoom(pipelineID)?.leave(client: client, session: session)
    }

    /// Orders an operation (editors and owners only; checked per operation).
    public func apply(_ pipelineID: String, client: String, session: String, clientOp: Int64, base: Int64, op: JSONValue) async throws {
        guard let room = existingRoom(pipelineID) else { throw ServiceError.invalid("join the pipeline before editing it", field: "pipeline") }
        try await room.apply(client: client, session: session, clientOp: clientOp, base: base, op: op)
    }

    public func presence(_ pipelineID: String, client: String, session: String, _ update: [String: JSONValue]) async {
        await existingRoom(pipelineID)?.presence(client: client, session: session, update)
    }

    /// Saves the working copy a client has in full (`through` its last operation) through `commit`.
    func save(_ pipelineID: String, through: Int64, by caller: Caller, _ commit: @Sendable () async throws -> PipelineRecord) async throws -> PipelineRecord {
        try await room(pipelineID).save(through: through, by: caller.user, commit)
    }

    /// A revision saved outside the live editor: open editors get the new working copy.
    func revisionSaved(_ pipelineID: String) async {
        try? await existingRoom(pipelineID)?.revisionSaved()
    }
}
