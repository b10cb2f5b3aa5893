import Foundation
import Store
import HTTPTypes
import HummingbirdWSClient
import Logging
@testable import Server
import Synchronization
import Testing

/// A real WebSocket client of `/api/v1/events` for tests: collects every message and waits for one that matches.
final class EventsClient: Sendable {
    /// What arrived, and whether the connection ended (shared with the connection task).
    private final class Inbox: Sendable {
        let received = Mutex<[JSONValue]>([])
        let finished = Mutex(false)
    }

    private let inbox = Inbox()
    private let outbox: AsyncStream<String>.Continuation
    private let connection: Task<Void, any Error>

    /// Connects to `ws://127.0.0.1:PORT/api/v1/events`, with the token in the upgrade request when given.
    init(port: Int, headerToken: String? = nil) {
        let (messages, outbox) = AsyncStream.makeStream(of: String.self)
        self.outbox = outbox
        var configuration = WebSocketClientConfiguration()
        if let headerToken { configuration.additionalHeaders[.authorization] = "Bearer \(headerToken)" }
        let inbox = self.inbox
        connection = Task {
            defer { inbox.finished.withLock { $0 = true } }
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/events", configuration: configuration,
                                              logger: Logger(label: "events-test")) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case let .text(text) = message { inbox.received.withLock { $0.append(JSONValue.parse(text) ?? .string(text)) } }
                        }
                    }
                    group.addTask {
                        for await text in messages { try await outbound.write(.text(text)) }
                    }
                    // Ends when the server closes or the test closes the outbox.
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    func send(_ message: JSONValue) { outbox.yield(message.text) }

    var messages: [JSONValue] { inbox.received.withLock { $0 } }

    /// The first message (in arrival order) matching `predicate`, waiting up to `timeout`.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ predicate: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = messages.first(where: predicate) { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no \(what) within \(timeout); received: \(messages.map(\.text).joined(separator: "\n"))")
        throw CancellationError()
    }

    /// Waits for the connection to end (the server closed it) and reports whether it did within `timeout`.
    func closedByServer(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.finished.withLock({ $0 }) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func close() async {
        outbox.finish()
        _ = try? await connection.value
    }
}

extension JSONValue {
    /// The message's `type`, or "".
    var messageType: String { self["type"]?.stringValue ?? "" }
    /// For `update` messages: the update's kind.
    var updateKind: String { self["update"]?["kind"]?.stringValue ?? "" }
}
