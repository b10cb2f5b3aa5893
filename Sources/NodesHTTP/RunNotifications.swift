import Foundation
public import NodeKit

extension SlackConnector: RunNotifying {
    public static let notificationChannel = "slack"

    /// Posts the run's line (and, when known, a link) to the channel.
    public static func notify(_ message: RunMessage, through connection: Connection, path: String?, to recipients: [String]) async throws {
        let endpoint = try endpoint(connection)
        let session = try HTTPSession(endpoint, maxBodyBytes: 1 << 20)
        let payload = JSONTree.object([("text", .string(message.text))])
        let reply = try await session.send(OutgoingRequest(method: .POST, url: endpoint.baseURL, headers: [("Content-Type", "application/json; charset=utf-8")],
                                                           body: Array(payload.text.utf8)))
        guard reply.isSuccess else { throw NodeError(code: "slack_refused", message: "Slack answered \(reply.status): \(reply.excerpt)") }
    }
}

extension HTTPConnector: RunNotifying {
    public static let notificationChannel = "webhook"

    /// POSTs the run as JSON (`pipeline`, `run_id`, `status`, `error`, `duration_seconds`, `records_read`,
    /// `rejected`, `link`, `text`) to the connection's base URL plus `path`.
    public static func notify(_ message: RunMessage, through connection: Connection, path: String?, to recipients: [String]) async throws {
        let endpoint = try HTTPEndpoint(connection)
        let session = try HTTPSession(endpoint, maxBodyBytes: 1 << 20)
        var fields: [(key: String, value: JSONTree)] = [
            ("pipeline", .string(message.pipeline)), ("run_id", .string(message.runID)), ("status", .string(message.status)),
            ("error", message.error.map(JSONTree.string) ?? .null), ("duration_seconds", .double(message.durationSeconds)),
            ("records_read", .int(Int64(message.recordsRead))), ("rejected", .int(Int64(message.rejected))), ("text", .string(message.text)),
        ]
        if let link = message.link { fields.append(("link", .string(link))) }
        let reply = try await session.send(OutgoingRequest(method: .POST, url: endpoint.url(path: path ?? "", query: []),
                                                           headers: [("Content-Type", "application/json"), ("Idempotency-Key", "\(message.runID)-notify")],
                                                           body: Array(JSONTree.object(fields).text.utf8)))
        guard reply.isSuccess else { throw NodeError(code: "http_status", message: "\(endpoint.redacted(reply.url)) answered \(reply.status): \(reply.excerpt)") }
    }
}
