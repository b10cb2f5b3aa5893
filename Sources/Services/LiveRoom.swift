import Foundation
import NodeKit
public import Store

/// Where a live editing session sends what the server tells it (one per WebSocket). A client too slow to take
/// what it is sent is cut off (the stream ends); it resynchronises when it reconnects.
public struct LiveOutbox: Sendable {
    /// Tells apart the sockets of one user.
    public let session: String
    let continuation: AsyncStream<JSONValue>.Continuation

    public init(session: String, continuation: AsyncStream<JSONValue>.Continuation) {
        self.session = session
        self.continuation = continuation
    }

    func send(_ message: JSONValue) {
        if case .dropped = continuation.yield(message) { continuation.finish() }
    }

    /// No more messages: the socket closed.
    public func finish() { continuation.finish() }
}

/// One pipeline's live working copy while editors have it open: orders their operations (the server's order is
/// the truth every editor converges to), stores each before it is broadcast, keeps node ids unique, tells the
/// loser of a same-field race who won, forwards presence, and saves the merged document as a revision.
actor LiveRoom {
    /// One editor tab in the room.
    struct Member {
        var client: String
        var session: String
        var user: User
        var role: ShareRole
        var roleCheckedAt: ContinuousClock.Instant
        var color: String
        var outbox: LiveOutbox
        var presence: [String: JSONValue] = [:]
        var lastPresence: ContinuousClock.Instant?
        /// An update that came too soon after the last one: sent when the interval ends (the latest wins), never dropped.
        var pendingPresence: [String: JSONValue]?
        var opTokens: Double = LiveRoom.opBurst
        var tokensAt = ContinuousClock.now
    }

    /// A node id that changed: every later operation naming `from` (sent before its client saw this) means `to`.
    /// A clash of added ids (`client` set) concerns only that client's operations.
    struct Rename { var seq: Int64; var client: String?; var from: String; var to: String }

    /// Who last set a field (a node's setting or a pipeline field), to tell a client whose value was replaced.
    struct Writer { var seq: Int64; var client: String; var user: String }

    static let colors = ["#d9480f", "#1971c2", "#2f9e44", "#ae3ec9", "#e8590c", "#0c8599", "#c2255c", "#5c940d"]
    /// Unsaved operations a working copy may hold, and their size in all; then it must be saved.
    static let maximumOps = 10_000, maximumOpBytes = 16 << 20
    /// Operations per second a client may send, and in one burst.
    static let opsPerSecond = 40.0, opBurst = 200.0
    /// The fastest presence updates are forwarded (20 per second).
    static let presenceInterval: Duration = .milliseconds(45)
    /// How long a role decision is trusted before the store is asked again.
    static let roleTTL: Duration = .seconds(10)

    let pipelineID: String
    let store: MetadataStore
    private var loaded = false
    private var revision: PipelineRevision?
    private var ops: [LiveOpRecord] = []
    /// The size of `ops`' operations in all.
    private var opBytes = 0
    private var seq: Int64 = 0
    private var ids: Set<String> = []
    private var renames: [Rename] = []
    private var writers: [String: Writer] = [:]
    private var lastClientOp: [String: Int64] = [:]
    private var members: [String: Member] = [:]
    /// Whether a change of the working copy is under way, and who waits for it: the actor is reentrant at each
    /// `await` (the store), so two operations must not be ordered at once.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(pipelineID: String, store: MetadataStore) {
        self.pipelineID = pipelineID
        self.store = store
    }

    // MARK: Membership

    func join(client: String, user: User, role: ShareRole, outbox: LiveOutbox) async throws {
        await acquire()
        defer { release() }
        if let other = members[client], other.user.id != user.id { throw ServiceError.forbidden("that client id belongs to another user's editor") }
        try await load()
        let taken = Set(members.values.filter { $0.user.id != user.id }.map(\.color))
        let color = members.values.first { $0.user.id == user.id }?.color ?? Self.colors.first { !taken.contains($0) } ?? Self.colors[members.count % Self.colors.count]
        members[client] = Member(client: client, session: outbox.session, user: user, role: role, roleCheckedAt: .now, color: color, outbox: outbox)
        outbox.send(workingCopy(type: "joined", for: client))
        broadcastMembers()
    }

    func leave(client: String, session: String) {
        guard members[client]?.session == session else { return }
        members[client] = nil
        broadcast(["type": .string("presence"), "client": .string(client), "gone": .bool(true)])
        broadcastMembers()
        if members.isEmpty { unload() }
    }

    var isEmpty: Bool { members.isEmpty }

    // MARK: Operations

    /// Orders one operation of `client` (sent when it had seen `base`), stores it and broadcasts it (its sender
    /// takes the broadcast as its acknowledgement). A refused operation is answered to its sender alone.
    func apply(client: String, session: String, clientOp: Int64, base: Int64, op: JSONValue) async throws {
        await acquire()
        defer { release() }
        guard var member = members[client], member.session == session else { throw ServiceError.invalid("join the pipeline before editing it", field: "pipeline") }
        do {
            try await authorize(&member, needs: .editor)
            try spendToken(&member)
            members[client] = member
            if let last = lastClientOp[client], clientOp <= last { return } // sent again after a reconnect: already applied
            try LiveOperation.check(op)
            guard ops.count < Self.maximumOps, opBytes < Self.maximumOpBytes else {
                throw ServiceError(.conflict, "working_copy_full",
                                   "the working copy holds \(ops.count) unsaved changes (\(opBytes >> 10) KiB): save the pipeline to go on")
            }
            try await order(member, clientOp: clientOp, base: base, op: op)
        } catch let error as ServiceError {
            member.outbox.send(.object(["type": .string("refused"), "pipeline": .string(pipelineID), "client_op": .int(clientOp),
                                        "error": .object(["code": .string(error.code), "message": .string(error.message)])]))
        }
    }

    private func order(_ member: Member, clientOp: Int64, base: Int64, op: JSONValue) async throws {
        let next = seq + 1
        // Ids renamed after the client last heard from us mean the new ids.
        let pending = renames.filter { $0.seq > base && ($0.client == nil || $0.client == member.client) }
        var op = pending.isEmpty ? op : LiveOperation.mapReferences(op) { id in pending.reduce(id) { $1.from == $0 ? $1.to : $0 } }
        var newIDs = ids, newRenames: [Rename] = [], overrode: [JSONValue] = [], newWriters: [String: Writer] = [:]
        /// Follows one (non-batch) operation: unique ids, renames, same-field races.
        func follow(_ inner: JSONValue, renamedBefore: [String: String]) throws -> JSONValue {
            var inner = renamedBefore.isEmpty ? inner : LiveOperation.mapReferences(inner) { renamedBefore[$0] ?? $0 }
            switch inner["kind"]?.stringValue {
            case "add":
                var clashes: [String: String] = [:]
                for node in inner["nodes"]?.arrayValue ?? [] {
                    guard let id = node["id"]?.stringValue else { continue }
                    if newIDs.contains(id) {
                        let free = LiveOperation.freeID(like: id, taken: newIDs)
                        clashes[id] = free
                        newRenames.append(Rename(seq: next, client: member.client, from: id, to: free))
                        newIDs.insert(free)
                    } else {
                        newIDs.insert(id)
                    }
                }
                if !clashes.isEmpty { inner = LiveOperation.renameAdded(inner, clashes) }
            case "remove":
                for node in inner["nodes"]?.arrayValue ?? [] { if let id = node.stringValue { newIDs.remove(id) } }
            case "rename":
                guard let from = inner["node"]?.stringValue, let to = inner["to"]?.stringValue, newIDs.contains(from) else {
                    throw ServiceError.invalid("there is no node \(inner["node"]?.stringValue ?? "") to rename (someone removed it)", field: "op.node")
                }
                guard !newIDs.contains(to) else { throw ServiceError(.conflict, "id_taken", "a node is already called \(to)") }
                newIDs.remove(from)
                newIDs.insert(to)
                newRenames.append(Rename(seq: next, client: nil, from: from, to: to))
            case "set", "meta":
                let field = inner["field"]?.stringValue ?? ""
                let key = (inner["node"]?.stringValue ?? "\u{0}pipeline") + "\u{0}" + field
                // The value was edited from what the editor showed at `since` (its settings form), or else at `base`.
                var seen = base
                if case let .int(since)? = inner["since"] { seen = min(seen, since) }
                if let last = newWriters[key] ?? writers[key], last.seq > seen, last.client != member.client {
                    overrode.append(.object(["node": inner["node"] ?? .null, "field": .string(field), "client": .string(last.client), "user": .string(last.user)]))
                }
                newWriters[key] = Writer(seq: next, client: member.client, user: member.user.name)
            default:
                break
            }
            return inner
        }
        if op["kind"] == .string("batch"), let inner = op["ops"]?.arrayValue {
            var followed: [JSONValue] = []
            for one in inner {
                // Later operations of a batch name the ids its earlier adds ended up with.
                let renamedHere = Dictionary(newRenames.filter { $0.client != nil }.map { ($0.from, $0.to) }, uniquingKeysWith: { $1 })
                followed.append(try follow(one, renamedBefore: renamedHere))
            }
            op = .object(["kind": .string("batch"), "ops": .array(followed)])
        } else {
            op = try follow(op, renamedBefore: [:])
        }
        let record = LiveOpRecord(seq: next, client: member.client, clientOp: clientOp, author: member.user.name, op: op.text, at: store.now())
        do {
            try await store.appendLiveOp(pipelineID: pipelineID, record)
        } catch is LiveSequenceMoved {
            // Another server process edited this working copy: take its state and let every client resynchronise.
            try await reload()
            throw ServiceError(.conflict, "working_copy_moved", "the working copy changed on another server; your editor has been resynchronised: try again")
        }
        seq = next
        ids = newIDs
        renames += newRenames
        writers.merge(newWriters) { $1 }
        lastClientOp[member.client] = clientOp
        ops.append(record)
        opBytes += record.op.utf8.count
        var message: [String: JSONValue] = ["type": .string("op"), "pipeline": .string(pipelineID), "seq": .int(next), "client": .string(member.client),
                                            "client_op": .int(clientOp), "user": .string(member.user.name), "op": op]
        if !overrode.isEmpty { message["overrode"] = .array(overrode) }
        broadcast(message)
    }

    // MARK: Presence

    /// Forwards where a client's pointer is, what it selected and which node's settings it has open. At most one
    /// update per client per `presenceInterval`: one that comes sooner waits for the interval's end (a later one
    /// replaces it), so the last word of a burst always arrives.
    func presence(client: String, session: String, _ update: [String: JSONValue]) {
        guard var member = members[client], member.session == session else { return }
        if let last = member.lastPresence, ContinuousClock.now - last < Self.presenceInterval {
            let scheduled = member.pendingPresence != nil
            member.pendingPresence = update
            members[client] = member
            if !scheduled {
                Task { [weak self] in
                    try? await Task.sleep(until: last + Self.presenceInterval)
                    await self?.sendPendingPresence(client: client, session: session)
                }
            }
            return
        }
        member.lastPresence = .now
        members[client] = member
        forwardPresence(client: client, update)
    }

    private func sendPendingPresence(client: String, session: String) {
        guard var member = members[client], member.session == session, let update = member.pendingPresence else { return }
        member.pendingPresence = nil
        member.lastPresence = .now
        members[client] = member
        forwardPresence(client: client, update)
    }

    private func forwardPresence(client: String, _ update: [String: JSONValue]) {
        guard var member = members[client] else { return }
        var presence: [String: JSONValue] = [:]
        if let cursor = update["cursor"]?.arrayValue, cursor.count == 2, cursor.allSatisfy(\.isFiniteNumber) { presence["cursor"] = .array(cursor) }
        if let selection = update["selection"]?.arrayValue {
            presence["selection"] = .array(Array(selection.prefix(200).filter { ($0.stringValue?.count ?? 1000) <= LiveOperation.maximumIDLength }))
        }
        if let editing = update["editing"]?.stringValue, editing.count <= LiveOperation.maximumIDLength { presence["editing"] = .string(editing) }
        guard presence != member.presence else { return }
        member.presence = presence
        members[client] = member
        var message = presence
        message["type"] = .string("presence")
        message["pipeline"] = .string(pipelineID)
        message["client"] = .string(client)
        message["user"] = .string(member.user.name)
        message["color"] = .string(member.color)
        broadcast(message, except: client)
    }

    // MARK: Saving

    /// Saves the merged document (`commit`, which must keep every operation up to `through`) and tells every editor.
    func save(through: Int64, by user: User, _ commit: @Sendable () async throws -> PipelineRecord) async throws -> PipelineRecord {
        await acquire()
        defer { release() }
        try await load()
        guard through == seq else {
            throw ServiceError(.conflict, "live_behind", "the working copy has changes you have not received yet (operation \(seq); you have \(through)): save again in a moment",
                               extra: ["live_seq": .int(seq)])
        }
        let record: PipelineRecord
        do { record = try await commit() } catch is LiveSequenceMoved {
            try await reload()
            throw ServiceError(.conflict, "working_copy_moved", "the working copy changed on another server: save again")
        }
        revision = try await store.revision(pipelineID: pipelineID, revision: record.currentRevision)
        ops.removeAll()
        opBytes = 0
        broadcast(["type": .string("saved"), "pipeline": .string(pipelineID), "revision": .int(record.currentRevision), "seq": .int(seq), "by": .string(user.name),
                   "contributors": .array((revision?.contributors ?? [user.name]).map { .string($0) })])
        return record
    }

    /// A revision was saved outside the live editor (the API, an import, a restore): the working copy is now that
    /// revision plus the unsaved operations, and every editor gets it.
    func revisionSaved() async throws {
        await acquire()
        defer { release() }
        guard loaded else { return }
        try await reload()
    }

    // MARK: State

    /// Waits until no other change of the working copy is under way (first come, first served).
    private func acquire() async {
        guard busy else { busy = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the working copy to the next waiter (still busy), or frees it.
    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    private func load() async throws {
        guard !loaded else { return }
        guard let copy = try await store.liveWorkingCopy(pipelineID: pipelineID) else { throw ServiceError.notFound("pipeline '\(pipelineID)'") }
        revision = copy.revision
        ops = copy.ops
        opBytes = ops.reduce(0) { $0 + $1.op.utf8.count }
        seq = copy.seq
        ids = Set((try? PipelineDocument.parse(copy.revision.document).nodes.map(\.id)) ?? [])
        for record in ops {
            lastClientOp[record.client] = max(lastClientOp[record.client] ?? 0, record.clientOp)
            guard let op = JSONValue.parse(record.op) else { continue }
            for inner in op["kind"] == .string("batch") ? op["ops"]?.arrayValue ?? [] : [op] {
                switch inner["kind"]?.stringValue {
                case "add": for node in inner["nodes"]?.arrayValue ?? [] { if let id = node["id"]?.stringValue { ids.insert(id) } }
                case "remove": for node in inner["nodes"]?.arrayValue ?? [] { if let id = node.stringValue { ids.remove(id) } }
                case "rename":
                    if let from = inner["node"]?.stringValue, let to = inner["to"]?.stringValue { ids.remove(from); ids.insert(to) }
                default: break
                }
            }
        }
        loaded = true
    }

    private func reload() async throws {
        loaded = false
        try await load()
        for member in members.values { member.outbox.send(workingCopy(type: "rebased", for: member.client)) }
    }

    private func unload() {
        loaded = false
        revision = nil
        ops = []
        opBytes = 0
        renames = []
        writers = [:]
    }

    /// The whole working copy for a client: the current revision (as JSON text, keys in their order), the
    /// operations on top of it, and the last operation of that client the server applied.
    private func workingCopy(type: String, for client: String) -> JSONValue {
        var document = "null"
        if let text = revision?.document, let root = try? YAMLReader.read(text, file: "document") { document = root.orderedJSON }
        return .object([
            "type": .string(type), "pipeline": .string(pipelineID), "client": .string(client), "color": .string(members[client]?.color ?? Self.colors[0]),
            "revision": .int(revision?.revision ?? 0), "document": .string(document), "seq": .int(seq),
            "ops": .array(ops.map { .object(["seq": .int($0.seq), "client": .string($0.client), "client_op": .int($0.clientOp), "user": .string($0.author),
                                             "op": JSONValue.parse($0.op) ?? .null]) }),
            "last_op": .int(lastClientOp[client] ?? 0), "members": membersList,
        ])
    }

    private var membersList: JSONValue {
        .array(members.values.sorted { ($0.user.name, $0.client) < ($1.user.name, $1.client) }.map { member in
            var entry: [String: JSONValue] = ["client": .string(member.client), "user": .string(member.user.name), "role": .string(member.role.rawValue),
                                              "color": .string(member.color)]
            for (key, value) in member.presence { entry[key] = value }
            return .object(entry)
        })
    }

    private func broadcastMembers() {
        broadcast(["type": .string("members"), "pipeline": .string(pipelineID), "members": membersList])
    }

    private func broadcast(_ message: [String: JSONValue], except: String? = nil) {
        var message = message
        message["pipeline"] = .string(pipelineID)
        let value = JSONValue.object(message)
        for member in members.values where member.client != except { member.outbox.send(value) }
    }

    /// Checks (again, when the last check is older than `roleTTL`) that the member's role allows `needed`.
    private func authorize(_ member: inout Member, needs needed: ShareRole) async throws {
        if ContinuousClock.now - member.roleCheckedAt > Self.roleTTL {
            guard let role = try await store.role(of: member.user, on: pipelineID) else { throw ServiceError.notFound("pipeline '\(pipelineID)'") }
            member.role = role
            member.roleCheckedAt = .now
        }
        guard member.role >= needed else {
            throw ServiceError.forbidden("changing the pipeline needs the \(needed.rawValue) role; you are \(member.role.rawValue)")
        }
    }

    private func spendToken(_ member: inout Member) throws {
        let now = ContinuousClock.now
        let elapsed = Double((now - member.tokensAt).components.attoseconds) / 1e18 + Double((now - member.tokensAt).components.seconds)
        member.opTokens = min(Self.opBurst, member.opTokens + elapsed * Self.opsPerSecond)
        member.tokensAt = now
        guard member.opTokens >= 1 else { throw ServiceError(.tooManyRequests, "too_many_operations", "too many changes at once: slow down") }
        member.opTokens -= 1
    }
}
