import Foundation
public import NodeKit

/// The `slack` connector: a Slack incoming-webhook URL (a secret: whoever has it may post to the channel).
/// The connection test checks the URL's form only: Slack has no way to test a webhook without posting.
public enum SlackConnector: Connector {
    static let webhookUrl = Field<String?>("webhookUrl", summary: "The incoming webhook's URL (a secret), https://hooks.slack.com/services/…")
    static let timeout = Field<Duration>("timeout", summary: "Time allowed for one post.", default: .seconds(30))

    public static let spec = ConnectionSpec(type: "slack", summary: "A Slack channel, through an incoming webhook.", fields: [webhookUrl.spec, timeout.spec],
                                            secretFields: ["webhookUrl"])

    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        let endpoint = try endpoint(connection)
        guard let host = URL(string: endpoint.baseURL)?.host else { throw NodeError(code: "invalid_value", message: "the webhook URL has no host") }
        return ConnectionCheckResult(message: "webhook URL for \(host) is well formed (Slack posts cannot be tested without posting)")
    }

    static func endpoint(_ connection: Connection) throws(ConfigError) -> HTTPEndpoint {
        guard let url = connection.secrets["webhookUrl"]?.reveal(), !url.isEmpty else {
            throw ConfigError(code: "missing_field", message: "a slack connection needs its webhookUrl (a secret)", location: connection.location,
                              node: "connection '\(connection.name)'", field: "webhookUrl")
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
            throw ConfigError(code: "invalid_value", message: "the webhookUrl is not an http or https URL", location: connection.location,
                              node: "connection '\(connection.name)'", field: "webhookUrl")
        }
        return HTTPEndpoint(name: connection.name, url: url, timeout: try connection.fields[Self.timeout], outbound: connection.outbound)
    }
}
