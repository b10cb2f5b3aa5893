import Foundation
import HTTPTypes
import Services

/// `POST /hooks/{trigger-id}`: fires a webhook trigger; the JSON body becomes the event.
///
/// Authentication, per the trigger's `auth` setting:
/// - `token`: the trigger's secret as `Authorization: Bearer …` or `X-Sluice-Token`;
/// - `hmac`: `X-Sluice-Timestamp` (Unix seconds) and `X-Sluice-Signature: sha256=HEX`, the HMAC-SHA256 of
///   `TIMESTAMP.BODY` keyed with the secret. A timestamp outside the tolerance window, or a signature already
///   seen within it (a replayed delivery), is refused.
enum WebhookRoutes {
    /// What a delivery did: the firing, its outcome, the rule's result and the runs it queued.
    struct Reply: APIView { var firingId: String; var outcome: String; var ruleResult: String; var runs: [String]; var detail: String? }

    static let endpoint = Endpoint(.post, "/hooks/{id}", "fireWebhook",
                                   "Fires a webhook trigger (token or HMAC-SHA256 signature, see docs/scheduling.md); answers with the runs it created.",
                                   tag: "triggers", access: .anyone, request: APISchema.any, status: .accepted, response: Reply.schema) { call in
        let headers = call.request.headers
        let bearer = headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let credentials = WebhookCredentials(token: bearer ?? headers[HTTPField.Name("X-Sluice-Token")!], timestamp: headers[HTTPField.Name("X-Sluice-Timestamp")!],
                                             signature: headers[HTTPField.Name("X-Sluice-Signature")!])
        let firing = try await call.services.triggers.deliver(call.parameter("id"), body: call.body.map { Data(buffer: $0) } ?? Data(), credentials: credentials)
        return try .json(Reply(firingId: firing.id, outcome: firing.outcome, ruleResult: firing.ruleResult, runs: firing.runIDs, detail: firing.detail), status: .accepted)
    }
}
