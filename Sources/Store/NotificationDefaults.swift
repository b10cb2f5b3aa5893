import Foundation
public import NodeKit

/// The server-wide run notifications an admin sets (`/api/v1/notifications`): rules that apply to every
/// pipeline without a `notify:` of its own, and the server's public address for links to run pages.
public struct NotificationDefaults: Codable, Sendable, Equatable {
    /// One rule: on which outcomes, through which connection, to whom (as a pipeline's `notify:` entry).
    public struct Rule: Codable, Sendable, Equatable {
        /// `failed`, `succeeded`, `rejected`.
        public var on: [String]
        /// `email`, `slack` or `webhook`: the channel of the connection's type.
        public var via: String
        public var connection: String
        /// E-mail addresses (via: email).
        public var to: [String]?
        /// A path on the connection's base URL (via: webhook).
        public var path: String?

        public init(on: [String], via: String, connection: String, to: [String]? = nil, path: String? = nil) {
            self.on = on
            self.via = via
            self.connection = connection
            self.to = to
            self.path = path
        }

        /// The rule as a pipeline notification entry (unknown outcomes are left out; rules are checked when saved).
        public var notification: RunNotification {
            RunNotification(on: Set(on.compactMap(RunNotificationEvent.init)), via: via, connection: connection, path: path, to: to ?? [])
        }
    }

    /// The address users open the server at (`https://sluice.example.com`); messages link to `…/#/run/ID`.
    public var publicUrl: String?
    public var rules: [Rule]
    /// The admin who saved them last: rules use the connections that admin may use.
    public var updatedBy: String?
    public var updatedAt: Int64?

    public init(publicUrl: String? = nil, rules: [Rule] = [], updatedBy: String? = nil, updatedAt: Int64? = nil) {
        self.publicUrl = publicUrl
        self.rules = rules
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }

    /// The link to a run's page, when the public address is known.
    public func runLink(_ runID: String) -> String? {
        guard let publicUrl, !publicUrl.isEmpty else { return nil }
        return (publicUrl.hasSuffix("/") ? String(publicUrl.dropLast()) : publicUrl) + "/#/run/" + runID
    }
}

extension MetadataStore {
    static let notificationDefaultsKey = "notification_defaults"

    /// The server-wide notification defaults (none set: no rules, no public address).
    public func notificationDefaults() async throws -> NotificationDefaults {
        guard let text = try await setting(Self.notificationDefaultsKey) else { return NotificationDefaults() }
        return (try? JSONDecoder().decode(NotificationDefaults.self, from: Data(text.utf8))) ?? NotificationDefaults()
    }

    public func setNotificationDefaults(_ defaults: NotificationDefaults) async throws {
        let data = try JSONEncoder().encode(defaults)
        try await setSetting(Self.notificationDefaultsKey, String(decoding: data, as: UTF8.self))
    }
}
