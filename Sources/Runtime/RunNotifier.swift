import Foundation
public import NodeKit

/// Delivers a finished run's notifications (`notify:` in its document): each entry whose outcomes match, through
/// its connection's connector, retried twice (after 1 s and 4 s) on failure unless the process is shutting down. Returns one line per entry for
/// the run's log, saying it was sent or why it could not be: a notification is never lost silently.
public struct RunNotifier: Sendable {
    public let connectors: ConnectorRegistry
    /// Waits between attempts (tests shorten it).
    public var retryDelays: [Duration] = [.seconds(1), .seconds(4)]
    /// Whether a failed attempt may still be tried again: a process shutting down sends each notification once
    /// rather than making its stop wait through the retries.
    public var mayRetry: @Sendable () -> Bool = { true }

    public init(connectors: ConnectorRegistry) { self.connectors = connectors }

    /// The log lines of delivering `message` to the document's matching entries, with connections from `catalog`;
    /// each line names its channel (`via`) and is `.error` when the notification could not be sent.
    public func deliver(_ message: RunMessage, for notifications: [RunNotification], succeeded: Bool,
                        catalog: @Sendable (String) async throws -> Connection) async -> [(level: LogLevel, message: String, via: String)] {
        var lines: [(level: LogLevel, message: String, via: String)] = []
        for entry in notifications where entry.applies(succeeded: succeeded, rejected: message.rejected) {
            let target = "\(entry.via) notification through '\(entry.connection)'"
            do {
                let connection = try await catalog(entry.connection)
                guard let connector = connectors.connector(connection.type, offering: (any RunNotifying.Type).self) else {
                    throw NodeError(code: "not_a_notifier", message: "\(connection.type) connections cannot send notifications; \(connectors.describeTypes(offering: (any RunNotifying.Type).self)) can")
                }
                guard connector.notificationChannel == entry.via else {
                    throw NodeError(code: "channel_mismatch", message: "'\(entry.connection)' is a \(connection.type) connection, which notifies via \(connector.notificationChannel), not \(entry.via)")
                }
                var attempt = 0
                while true {
                    do {
                        try await connector.notify(message, through: connection, path: entry.path, to: entry.to)
                        break
                    } catch {
                        guard attempt < retryDelays.count else { throw error }
                        guard mayRetry() else { throw NotRetried(error: error) }
                        try? await Task.sleep(for: retryDelays[attempt])
                        attempt += 1
                    }
                }
                lines.append((.info, "\(target) sent", entry.via))
            } catch {
                lines.append((.error, "\(target) could not be sent: \(error)", entry.via))
            }
        }
        return lines
    }
}

/// A failed notification that was not tried again because the process is shutting down.
struct NotRetried: Error, CustomStringConvertible {
    let error: any Error
    var description: String { "\(error) (not tried again: the process is shutting down)" }
}

extension RunMessage {
    /// The message of a finished run of `plan`: its status, first error, wall time, records its sources read and rejects.
    public init(plan: ExecutionPlan, summary: RunSummary, runID: String, status: String, link: String?) {
        let read = summary.nodes.filter { plan.node($0.node)?.isSource == true }.reduce(0) { $0 + $1.counts.recordsOut }
        let seconds = Double(summary.duration.components.seconds) + Double(summary.duration.components.attoseconds) / 1e18
        self.init(pipeline: plan.document.name, runID: runID, status: status, error: summary.error, durationSeconds: seconds,
                  recordsRead: read, rejected: summary.rejected, link: link)
    }
}
