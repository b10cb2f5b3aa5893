import Foundation
import HummingbirdWebSocket
import Runtime
import Services
import Store
import Synchronization

/// One `/api/v1/events` WebSocket: authenticates, keeps the client's subscriptions, and forwards the
/// run updates it may see (sharing is checked per pipeline and re-checked every few seconds).
final class EventSession: Sendable {
    /// What the client asked to watch.
    private struct Subscriptions {
        var runs: Set<String> = []
        var pipelines: Set<String> = []
        var all = false
        var isEmpty: Bool { runs.isEmpty && pipelines.isEmpty && !all }
    }

    private struct Access {
        var user: User?
        var token: String?
        /// Pipeline id → (visible, checked at).
        var visibility: [String: (Bool, ContinuousClock.Instant)] = [:]
    }

    private let state: ServerState
    private let outbound: WebSocketOutboundWriter
    private let access: Mutex<Access>
    private let subscriptions = Mutex(Subscriptions())
    /// Live editing: this socket's outbox and the pipelines it edits (pipeline → client id).
    private let live: (outbox: LiveOutbox, stream: AsyncStream<JSONValue>)
    private let editing = Mutex<[String: String]>([:])
    /// When the client last said something, and whether the server is still handling it (a socket editing a
    /// pipeline that falls silent is closed; one whose message waits on a slow store is not silent).
    private let lastHeard = Mutex((at: ContinuousClock.now, handling: false))

    /// How long a sharing decision is trusted before it is checked again.
    static let visibilityTTL: Duration = .seconds(10)
    /// How often the token is re-checked (logout and expiry end the socket).
    static let reauthenticateEvery: Duration = .seconds(30)
    /// How long an unauthenticated socket may stay open.
    static let authTimeout: Duration = .seconds(10)
    /// How long a socket editing a pipeline may stay silent (editors send a heartbeat every 3 s): then its tab is
    /// taken as gone and leaves the room.
    static let editorSilence: Duration = .seconds(7)

    init(state: ServerState, outbound: WebSocketOutboundWriter, user: User?, token: String?) {
        self.state = state
        self.outbound = outbound
        access = Mutex(Access(user: user, token: user == nil ? nil : token))
        let (stream, continuation) = AsyncStream.makeStream(of: JSONValue.self, bufferingPolicy: .bufferingOldest(4096))
        live = (LiveOutbox(session: UUID().uuidString, continuation: continuation), stream)
    }

    private var user: User? { access.withLock { $0.user } }

    func run(_ inbound: WebSocketInboundStream) async throws {
        // Subscribe to the bus first, so nothing published after a "subscribed" reply is missed.
        let updates = state.bus.subscribe()
        if let user { try await send(["type": .string("ready"), "user": .string(user.name)]) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.forward(updates) }
            group.addTask { try await self.guardAccess() }
            group.addTask { try await self.receive(inbound) }
            group.addTask { try await self.forwardLive() }
            group.addTask { try await self.watchSilence() }
            // The first task to end (client closed, token revoked, too slow for live editing) ends the socket.
            defer { live.outbox.finish() }
            try await group.next()
            group.cancelAll()
        }
        // Its tabs leave the rooms they were in.
        for (pipelineID, client) in editing.withLock({ $0 }) {
            await state.services.live.leave(pipelineID, client: client, session: live.outbox.session)
        }
    }

    /// Sends what live editing rooms say to this socket; ends when the socket was too slow to keep up.
    private func forwardLive() async throws {
        for await message in live.stream { try await outbound.write(.text(message.text)) }
        try await outbound.close(.goingAway, reason: "too slow for live editing: reconnect")
    }

    /// Closes a socket that edits a pipeline and has fallen silent (a lost connection), so its tab leaves the room.
    private func watchSilence() async throws {
        while true {
            try await Task.sleep(for: .seconds(1))
            let (heard, handling) = lastHeard.withLock { $0 }
            if !handling, ContinuousClock.now - heard > Self.editorSilence, !editing.withLock({ $0.isEmpty }) {
                try await outbound.close(.goingAway, reason: "no heartbeat")
                return
            }
        }
    }

    private func receive(_ inbound: WebSocketInboundStream) async throws {
        for try await message in inbound.messages(maxSize: 256 * 1024) {
            lastHeard.withLock { $0 = (.now, true) }
            // Silence counts from when the server is done with the message: a heartbeat queued behind an operation
            // that waited on the store was still heard.
            defer { lastHeard.withLock { $0 = (.now, false) } }
            guard case let .text(text) = message else {
                try await sendError(APIError.invalid("send JSON text messages"))
                continue
            }
            do {
                try await handle(text)
            } catch {
                try await sendError(APIError.from(error))
            }
        }
    }

    private func handle(_ text: String) async throws {
        guard let message = JSONValue.parse(text), case let .string(type)? = message["type"] else {
            throw APIError.invalid("each message is a JSON object with a \"type\": auth, subscribe, unsubscribe, op, presence or debug", field: "type")
        }
        if type == "auth" {
            guard case let .string(token)? = message["token"] else { throw APIError.invalid("auth needs a \"token\"", field: "token") }
            let user = try await state.authenticator.authenticate(token: token)
            access.withLock { $0 = Access(user: user, token: token) }
            try await send(["type": .string("ready"), "user": .string(user.name)])
            return
        }
        guard let user else { throw APIError.unauthenticated }
        switch type {
        case "subscribe", "unsubscribe":
            let adding = type == "subscribe"
            if case let .string(runID)? = message["run"] {
                let run = try await state.services.runs.get(runID, for: Caller(user))
                subscriptions.withLock { if adding { $0.runs.insert(runID) } else { $0.runs.remove(runID) } }
                try await send(["type": .string(type + "d"), "run": .string(runID)])
                // The current state first, so a late subscriber is not blank until the next update.
                if adding { try await send(["type": .string("snapshot"), "run": try JSONValue.encoded(RunRoutes.RunView(run, withNodes: true))]) }
            } else if case let .string(pipelineID)? = message["edit"] {
                guard case let .string(client)? = message["client"] else { throw APIError.invalid("edit needs the tab's \"client\" id", field: "client") }
                if adding {
                    try await state.services.live.join(pipelineID, client: client, by: Caller(user), outbox: live.outbox)
                    editing.withLock { $0[pipelineID] = client }
                } else {
                    editing.withLock { $0[pipelineID] = nil }
                    await state.services.live.leave(pipelineID, client: client, session: live.outbox.session)
                }
            } else if case let .string(pipelineID)? = message["pipeline"] {
                guard try await visible(pipelineID, to: user, fresh: true) else { throw APIError.notFound("pipeline '\(pipelineID)'") }
                subscriptions.withLock { if adding { $0.pipelines.insert(pipelineID) } else { $0.pipelines.remove(pipelineID) } }
                try await send(["type": .string(type + "d"), "pipeline": .string(pipelineID)])
            } else if message["all"] == .bool(true) {
                subscriptions.withLock { $0.all = adding }
                try await send(["type": .string(type + "d"), "all": .bool(true)])
            } else {
                throw APIError.invalid("\(type) needs \"run\", \"pipeline\", \"edit\" or \"all\": true", field: "run")
            }
        case "op":
            // One change to a pipeline being edited live; refusals come back as "refused" for that operation.
            let (pipelineID, client) = try joined(message)
            guard case let .int(clientOp)? = message["client_op"], case let .int(base)? = message["base"], let op = message["op"] else {
                throw APIError.invalid("op needs client_op and base (numbers) and op", field: "op")
            }
            try await state.services.live.apply(pipelineID, client: client, session: live.outbox.session, clientOp: clientOp, base: base, op: op)
        case "presence":
            let (pipelineID, client) = try joined(message)
            await state.services.live.presence(pipelineID, client: client, session: live.outbox.session, message.objectValue ?? [:])
        case "debug":
            // A debug run's controller steps, continues or stops it.
            guard case let .string(runID)? = message["run"] else { throw APIError.invalid("debug needs \"run\"", field: "run") }
            guard case let .string(text)? = message["command"], let command = DebugCommand(rawValue: text) else {
                throw APIError.invalid("debug needs a \"command\": step, continue or stop", field: "command")
            }
            try await state.services.runs.debug(runID, by: Caller(user)) { command }
            try await send(["type": .string("debugged"), "run": .string(runID), "command": .string(text)])
        default:
            throw APIError.invalid("unknown message type '\(type)': use auth, subscribe, unsubscribe, op, presence or debug", field: "type")
        }
    }

    /// The pipeline a live message is about, and this socket's client id in its room.
    private func joined(_ message: JSONValue) throws -> (String, String) {
        guard case let .string(pipelineID)? = message["pipeline"], let client = editing.withLock({ $0[pipelineID] }) else {
            throw APIError.invalid("join the pipeline first: {\"type\":\"subscribe\",\"edit\":ID,\"client\":TAB}", field: "pipeline")
        }
        return (pipelineID, client)
    }

    private func forward(_ updates: AsyncStream<RunUpdate>) async throws {
        for await update in updates {
            guard let user, wanted(update), try await visible(update.pipelineID, to: user) else { continue }
            try await send(["type": .string("update"), "update": try JSONValue.encoded(update)])
        }
    }

    private func wanted(_ update: RunUpdate) -> Bool {
        subscriptions.withLock { s in s.all || s.runs.contains(update.runID) || s.pipelines.contains(update.pipelineID) }
    }

    /// Closes the socket when it never authenticates, or when its token stops being valid (logout, expiry, user disabled).
    private func guardAccess() async throws {
        try await Task.sleep(for: Self.authTimeout)
        guard access.withLock({ $0.user != nil }) else {
            try await sendError(APIError.unauthenticated)
            try await outbound.close(.policyViolation, reason: "not authenticated")
            return
        }
        while true {
            try await Task.sleep(for: Self.reauthenticateEvery)
            guard let token = access.withLock({ $0.token }) else { continue }
            do {
                let user = try await state.authenticator.authenticate(token: token)
                access.withLock { $0.user = user; $0.visibility = [:] }
            } catch {
                try await sendError(APIError.from(error))
                try await outbound.close(.policyViolation, reason: "token no longer valid")
                return
            }
        }
    }

    private func visible(_ pipelineID: String, to user: User, fresh: Bool = false) async throws -> Bool {
        if user.role == .admin { return true }
        let now = ContinuousClock.now
        if !fresh, let (known, at) = access.withLock({ $0.visibility[pipelineID] }), now - at < Self.visibilityTTL { return known }
        let visible = try await state.services.runs.mayWatch(pipeline: pipelineID, Caller(user))
        access.withLock { $0.visibility[pipelineID] = (visible, now) }
        return visible
    }

    private func send(_ object: [String: JSONValue]) async throws {
        try await outbound.write(.text(JSONValue.object(object).text))
    }

    private func sendError(_ error: APIError) async throws {
        try await send(["type": .string("error"), "error": error.envelope["error"] ?? .null])
    }
}

extension JSONValue {
    /// An `Encodable` value in the API's JSON conventions (snake_case keys).
    static func encoded<T: Encodable>(_ value: T) throws -> JSONValue {
        JSONValue.parse(String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)) ?? .null
    }
}
