import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Carries run updates between processes sharing a PostgreSQL store, over `LISTEN`/`NOTIFY`.
///
/// Local subscribers get every update at once (published here or received from another process);
/// updates published here are also sent with `pg_notify` on one channel, tagged with this process's
/// origin so it ignores its own echo. Live updates are best effort (the store holds the truth): when
/// PostgreSQL is unreachable the bus keeps delivering locally and reconnects in the background.
public final class PostgresEventBus: EventBus {
    /// The notification channel every Sluice process listens on.
    public static let channel = "sluice_events"
    /// PostgreSQL rejects payloads of 8000 bytes or more; updates are split or trimmed below this.
    static let payloadLimit = 7_800

    private let local = LocalEventBus()
    private let database: PostgresStoreDatabase
    private let origin = MetadataStore.newID()
    /// Payloads waiting to be sent (oldest dropped beyond 4096), and the signal that wakes the sender.
    private let pending = Mutex<[String]>([])
    private let wake: AsyncStream<Void>.Continuation
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let listening = Mutex(false)

    /// Starts listening and sending at once; call `close` before closing the store.
    public init(database: PostgresStoreDatabase) {
        self.database = database
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let listener = Task { [weak self] in _ = await self?.listenLoop() }
        let sender = Task { [weak self] in
            for await _ in signals { await self?.sendPending() }
        }
        tasks.withLock { $0 = [listener, sender] }
    }

    public func publish(_ update: RunUpdate) {
        local.publish(update)
        let payloads = Self.payloads(update, origin: origin)
        pending.withLock { queue in
            queue.append(contentsOf: payloads)
            if queue.count > 4096 { queue.removeFirst(queue.count - 4096) }
        }
        wake.yield()
    }

    /// `pg_notify` in the transaction: PostgreSQL sends the notifications when, and only when, it commits.
    public func send(_ updates: [RunUpdate], in session: any StoreSession) async throws {
        let payloads = updates.flatMap { Self.payloads($0, origin: origin) }
        for start in stride(from: 0, to: payloads.count, by: 64) {
            let batch = Array(payloads[start..<min(start + 64, payloads.count)])
            _ = try await session.query(Self.notifyStatement(batch.count), batch.map { SQLValue.text($0) })
        }
    }

    public func deliver(_ update: RunUpdate) { local.publish(update) }

    public func subscribe() -> AsyncStream<RunUpdate> { local.subscribe() }

    /// True once this process is listening (tests wait for it before publishing elsewhere).
    public var isListening: Bool { listening.withLock { $0 } }

    /// Stops listening and sending (pending notifications are dropped).
    public func close() async {
        wake.finish()
        let running = tasks.withLock { t in defer { t = [] }; return t }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private func listenLoop() async {
        while !Task.isCancelled {
            do {
                try await database.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        self.listening.withLock { $0 = true }
                        for try await notification in notifications {
                            guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(notification.payload.utf8)),
                                  envelope.origin != self.origin else { continue }
                            self.local.publish(envelope.update)
                        }
                    }
                }
            } catch {}
            listening.withLock { $0 = false }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Sends every queued payload, up to 64 per round trip.
    private func sendPending() async {
        while true {
            let batch = pending.withLock { queue -> [String] in
                let batch = Array(queue.prefix(64))
                queue.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            // One autocommitted statement: NOTIFY needs no surrounding transaction.
            _ = try? await database.withConnection { connection in
                try await connection.query(PostgresSession.query(Self.notifyStatement(batch.count), batch.map { SQLValue.text($0) }), logger: PostgresStoreDatabase.logger)
            }
        }
    }

    /// One statement sending `count` payloads (`$1` … `$count`) on the channel.
    static func notifyStatement(_ count: Int) -> String {
        "SELECT " + (1...max(count, 1)).map { "pg_notify('\(channel)', $\($0))" }.joined(separator: ", ")
    }

    private struct Envelope: Codable {
        var origin: String
        var update: RunUpdate
    }

    /// The update as one or more notification payloads under the size limit: node lists are split,
    /// long log messages and errors are trimmed (the store keeps them whole).
    static func payloads(_ update: RunUpdate, origin: String) -> [String] {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(Envelope(origin: origin, update: update)) else { return [] }
        if data.count < payloadLimit { return [String(decoding: data, as: UTF8.self)] }
        if let nodes = update.nodes, nodes.count > 1 {
            let half = nodes.count / 2
            let firstNames = Set(nodes[..<half].map(\.node))
            var first = update, second = update
            switch update.event {
            case let .progress(_, rates, progress):
                // Rates and progress travel with their nodes.
                first.event = .progress(nodes: Array(nodes[..<half]), rates: rates.filter { firstNames.contains($0.key) },
                                        progress: progress?.filter { firstNames.contains($0.key) })
                second.event = .progress(nodes: Array(nodes[half...]), rates: rates.filter { !firstNames.contains($0.key) },
                                         progress: progress?.filter { !firstNames.contains($0.key) })
            case let .finished(phase, _, error):
                first.event = .finished(phase, nodes: Array(nodes[..<half]), error: error)
                second.event = .finished(phase, nodes: Array(nodes[half...]), error: error)
            case .status, .log, .debug, .step:
                break
            }
            return payloads(first, origin: origin) + payloads(second, origin: origin)
        }
        func trim(_ text: String) -> String { String(text.prefix(2000)) }
        func trim(_ nodes: [RunNodeRecord]?) -> [RunNodeRecord]? {
            nodes?.map { node in
                var node = node
                node.error = node.error.map(trim)
                return node
            }
        }
        var trimmed = update
        switch update.event {
        case var .log(line):
            line.message = trim(line.message)
            trimmed.event = .log(line)
        case let .finished(phase, nodes, error):
            trimmed.event = .finished(phase, nodes: trim(nodes), error: error.map(trim))
        case let .progress(nodes, rates, progress):
            trimmed.event = .progress(nodes: trim(nodes) ?? [], rates: rates, progress: progress)
        case var .debug(debug):
            debug.reason = debug.reason.map(trim)
            debug.point = debug.point.map(trim)
            trimmed.event = .debug(debug)
        case var .step(record):
            // The SQL of a failed step stays in the store (GET /api/v1/runs/{id}/steps).
            record.step.message = record.step.message.map(trim)
            record.step.sql = record.step.sql.map { String($0.prefix(500)) }
            trimmed.event = .step(record)
        case .status:
            break
        }
        guard let data = try? encoder.encode(Envelope(origin: origin, update: trimmed)), data.count < payloadLimit else { return [] }
        return [String(decoding: data, as: UTF8.self)]
    }
}
