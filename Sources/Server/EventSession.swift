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

    /// How long a sharing decision is trusted before it is checked again.
    static let visibilityTTL: Duration = .seconds(10)
    /// How often the token is re-checked (logout and expiry end the socket).
    static let reauthenticateEvery: Duration = .seconds(30)
    /// How long an unauthenticated socket may stay open.
    static let authTimeout: Duration = .seconds(10)

    init(state: ServerState, outbound: WebSocketOutboundWriter, user: User?, token: String?) {
        self.state = state
        self.outbound = outbound
        access = Mutex(Access(user: user, token: user == nil ? nil : token))
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
            // The first task to end (client closed, token revoked) ends the socket.
            try await group.next()
            group.cancelAll()
        }
    }

    private func receive(_ inbound: WebSocketInboundStream) async throws {
        for try await message in inbound.messages(maxSize: 64 * 1024) {
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
            throw APIError.invalid("each message is a JSON object with a \"type\": auth, subscribe, unsubscribe or debug", field: "type")
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
            } else if case let .string(pipelineID)? = message["pipeline"] {
                guard try await visible(pipelineID, to: user, fresh: true) else { throw APIError.notFound("pipeline '\(pipelineID)'") }
                subscriptions.withLock { if adding { $0.pipelines.insert(pipelineID) } else { $0.pipelines.remove(pipelineID) } }
                try await send(["type": .string(type + "d"), "pipeline": .string(pipelineID)])
            } else if message["all"] == .bool(true) {
                subscriptions.withLock { $0.all = adding }
                try await send(["type": .string(type + "d"), "all": .bool(true)])
            } else {
                throw APIError.invalid("\(type) needs \"run\", \"pipeline\" or \"all\": true", field: "run")
            }
        case "debug":
            // A debug run's controller steps, continues or stops it.
            guard case let .string(runID)? = message["run"] else { throw APIError.invalid("debug needs \"run\"", field: "run") }
            guard case let .string(text)? = message["command"], let command = DebugCommand(rawValue: text) else {
                throw APIError.invalid("debug needs a \"command\": step, continue or stop", field: "command")
            }
            try await state.services.runs.debug(runID, by: Caller(user)) { command }
            try await send(["type": .string("debugged"), "run": .string(runID), "command": .string(text)])
        default:
            throw APIError.invalid("unknown message type '\(type)': use auth, subscribe, unsubscribe or debug", field: "type")
        }
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
