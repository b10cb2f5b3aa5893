import Foundation
import Services
import Store

/// The server-wide notification defaults (admins): rules for pipelines without `notify:`, the public address for
/// run links, and a test send.
enum NotificationRoutes {
    /// What a test send did: one entry per rule.
    struct TestResult: APIView {
        struct Line: APIView { var ok: Bool; var message: String }
        var results: [Line]
    }

    static let defaultsSchema = APISchema.of(NotificationDefaults.self)

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/notifications", "getNotificationDefaults", "The server-wide run notifications and the public address used in run links.",
                 tag: "notifications", access: .admin, response: defaultsSchema) { call in
            try .json(try await call.services.notifications.defaults(for: try call.caller))
        },
        Endpoint(.put, "/api/v1/notifications", "setNotificationDefaults",
                 "Replaces the server-wide run notifications (they apply to pipelines without notify:); every rule is checked first.",
                 tag: "notifications", access: .admin, request: defaultsSchema, response: defaultsSchema) { call in
            try .json(try await call.services.notifications.update({ try call.decode(NotificationDefaults.self) }, by: try call.caller))
        },
        Endpoint(.post, "/api/v1/notifications/test", "testNotificationDefaults", "Sends a test message through every server-wide rule and says what happened.",
                 tag: "notifications", access: .admin, response: TestResult.schema) { call in
            let lines = try await call.services.notifications.test(by: try call.caller)
            return try .json(TestResult(results: lines.map { TestResult.Line(ok: $0.ok, message: $0.message) }))
        },
    ]
}
