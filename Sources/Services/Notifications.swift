import BuiltinNodes
import Foundation
import NodeKit
public import Store
import Runtime
import Workers

/// Server-wide run notifications: the rules every pipeline without its own `notify:` gets, and the public
/// address run links use. Admins only; each change is audited. Rules are checked when saved: a known outcome,
/// a connection the admin may use whose type notifies through the rule's channel, addresses for e-mail.
public struct Notifications: Sendable {
    let context: ServiceContext

    /// The current defaults. Admins only.
    public func defaults(for caller: Caller) async throws -> NotificationDefaults {
        try caller.requireAdmin()
        return try await context.store.notificationDefaults()
    }

    /// Replaces the defaults after checking every rule. Admins only.
    public func update(_ input: () throws -> NotificationDefaults, by caller: Caller) async throws -> NotificationDefaults {
        try caller.requireAdmin()
        var defaults = try input()
        if let url = defaults.publicUrl?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil, parsed.query == nil, parsed.fragment == nil else {
                throw ServiceError.invalid("publicUrl must be an http or https address without query or fragment, such as https://sluice.example.com", field: "publicUrl")
            }
            defaults.publicUrl = url
        } else {
            defaults.publicUrl = nil
        }
        guard defaults.rules.count <= 50 else { throw ServiceError.invalid("at most 50 rules", field: "rules") }
        let catalog = try await context.connections.catalog(names: Set(defaults.rules.map(\.connection)), actingAs: ConnectionActor(caller.user))
        for (index, rule) in defaults.rules.enumerated() {
            try check(rule, field: "rules[\(index)]", catalog: catalog)
        }
        defaults.updatedBy = caller.name
        defaults.updatedAt = context.store.now()
        try await context.store.setNotificationDefaults(defaults)
        try await context.audit(caller, "notifications_update", detail: "\(defaults.rules.count) rule(s)")
        return defaults
    }

    /// Sends a test message through every rule; one line per rule, saying it was sent or why not. Admins only.
    public func test(by caller: Caller) async throws -> [(ok: Bool, message: String)] {
        try caller.requireAdmin()
        let defaults = try await context.store.notificationDefaults()
        let message = RunMessage(pipeline: "notification-test", runID: "test", status: "succeeded", error: nil, durationSeconds: 0, recordsRead: 0, rejected: 0,
                                 link: defaults.runLink("test"))
        let connections = context.connections
        let actor = ConnectionActor(caller.user)
        var notifier = RunNotifier(connectors: BuiltinNodes.connectors)
        notifier.retryDelays = []
        let rules = defaults.rules.map { rule in var entry = rule.notification; entry.on = [.succeeded]; return entry }
        let lines = await notifier.deliver(message, for: rules, succeeded: true) { name in
            guard let connection = try await connections.catalog(names: [name], actingAs: actor).connections[name] else {
                throw NodeError(code: "unknown_connection", message: "no connection named '\(name)' that you may use")
            }
            return connection
        }
        try await context.audit(caller, "notifications_test", detail: "\(lines.count) rule(s)")
        return lines.map { ($0.level != .error, $0.message) }
    }

    private func check(_ rule: NotificationDefaults.Rule, field: String, catalog: ConnectionCatalog) throws {
        guard !rule.on.isEmpty else { throw ServiceError.invalid("say on which outcomes to notify (failed, succeeded, rejected)", field: "\(field).on") }
        for outcome in rule.on where RunNotificationEvent(rawValue: outcome) == nil {
            throw ServiceError.invalid("'\(outcome)' is not a run outcome; use failed, succeeded or rejected", field: "\(field).on")
        }
        guard let connection = catalog.connections[rule.connection] else {
            throw ServiceError.invalid("no connection named '\(rule.connection)' that you may use", field: "\(field).connection")
        }
        let connectors = BuiltinNodes.connectors
        guard let connector = connectors.connector(connection.type, offering: (any RunNotifying.Type).self) else {
            throw ServiceError.invalid("\(connection.type) connections cannot send notifications; \(connectors.describeTypes(offering: (any RunNotifying.Type).self)) can",
                                       field: "\(field).connection")
        }
        guard connector.notificationChannel == rule.via else {
            throw ServiceError.invalid("'\(rule.connection)' is a \(connection.type) connection: it notifies via \(connector.notificationChannel), not \(rule.via)", field: "\(field).via")
        }
        if rule.via == "email" {
            let to = rule.to ?? []
            guard !to.isEmpty else { throw ServiceError.invalid("an e-mail rule needs at least one address in to", field: "\(field).to") }
            guard to.count <= 100 else { throw ServiceError.invalid("at most 100 addresses", field: "\(field).to") }
            for address in to where !Self.looksLikeAddress(address) {
                throw ServiceError.invalid("'\(address)' is not an e-mail address", field: "\(field).to")
            }
        }
        if let path = rule.path, path.contains("://") || path.contains("\r") || path.contains("\n") {
            throw ServiceError.invalid("path is a path on the connection's base URL, such as /hooks/sluice", field: "\(field).path")
        }
    }

    /// `local@domain` with no spaces or brackets (the SMTP connector checks fully when sending).
    static func looksLikeAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.contains { $0.isWhitespace || "<>()[],;:\"\\".contains($0) }
    }
}
