import Crypto
import Foundation
import HTTPTypes
import Scheduler
import Store

/// `POST /hooks/{trigger-id}`: fires a webhook trigger; the JSON body becomes the event.
///
/// Authentication, per the trigger's `auth` setting:
/// - `token`: the trigger's secret as `Authorization: Bearer …` or `X-Sluice-Token`;
/// - `hmac`: `X-Sluice-Timestamp` (Unix seconds) and `X-Sluice-Signature: sha256=HEX`, the HMAC-SHA256 of
///   `TIMESTAMP.BODY` keyed with the secret. A timestamp outside the tolerance window, or a signature already
///   seen within it (a replayed delivery), is refused.
enum WebhookRoutes {
    struct Reply: Encodable { var firingId: String; var outcome: String; var ruleResult: String; var runs: [String]; var detail: String? }

    static let endpoint = Endpoint(.post, "/hooks/{id}", "fireWebhook",
                                   "Fires a webhook trigger (token or HMAC-SHA256 signature, see docs/scheduling.md); answers with the runs it created.",
                                   tag: "triggers", access: .anyone, request: APISchema.any, status: .accepted,
                                   response: APISchema.object(["firing_id": APISchema.string, "outcome": APISchema.string, "rule_result": APISchema.string,
                                                            "runs": APISchema.array(APISchema.string), "detail": APISchema.nullable(APISchema.string)], optional: ["detail"])) { call in
        let state = call.state
        guard let trigger = try await state.store.trigger(id: call.parameter("id")), trigger.kind == WebhookTrigger.name else {
            throw APIError.notFound("webhook '\(call.parameter("id"))'")
        }
        let definition = try TriggerDefinition.load(trigger)
        guard let settings = definition.settings as? WebhookTrigger else { throw APIError.notFound("webhook") }
        let body = call.body.map { Data(buffer: $0) } ?? Data()
        guard body.count <= settings.maxBodyBytes else {
            throw APIError(.contentTooLarge, "body_too_large", "the body has \(body.count) bytes; this webhook accepts at most \(settings.maxBodyBytes)")
        }
        guard let stored = try await state.store.triggerSecret(id: trigger.id) else {
            throw APIError(.unauthorized, "unauthenticated", "this webhook has no secret; rotate it to get one")
        }
        if settings.hmac {
            try await verifySignature(call, body: body, trigger: trigger, stored: stored, settings: settings)
        } else {
            let header = call.request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let token = header ?? call.request.headers[HTTPField.Name("X-Sluice-Token")!]
            guard let token, constantTimeEqual(OpaqueToken.digest(token), stored.hash) else {
                throw APIError(.unauthorized, "unauthenticated", "missing or wrong webhook token (send it as 'Authorization: Bearer …' or 'X-Sluice-Token')")
            }
        }
        guard trigger.enabled else { throw APIError(.conflict, "trigger_disabled", "trigger '\(trigger.name)' is disabled") }
        guard let firing = try await state.dispatcher.fire(trigger, rule: definition.rule, event: event(from: body), expectedVersion: nil, newState: nil) else {
            throw APIError(.conflict, "conflict", "the trigger changed while firing; try again")
        }
        return try .json(Reply(firingId: firing.id, outcome: firing.outcome, ruleResult: firing.ruleResult, runs: firing.runIDs, detail: firing.detail), status: .accepted)
    }

    static func verifySignature(_ call: APICall, body: Data, trigger: TriggerRecord, stored: StoredTriggerSecret, settings: WebhookTrigger) async throws {
        let headers = call.request.headers
        guard let timestampText = headers[HTTPField.Name("X-Sluice-Timestamp")!], let timestamp = Int64(timestampText),
              let signatureText = headers[HTTPField.Name("X-Sluice-Signature")!], signatureText.hasPrefix("sha256=") else {
            throw APIError(.unauthorized, "unauthenticated", "a signed webhook needs 'X-Sluice-Timestamp' (Unix seconds) and 'X-Sluice-Signature: sha256=HEX'")
        }
        let now = call.state.store.now() / 1000
        guard abs(now - timestamp) <= Int64(settings.toleranceSeconds) else {
            throw APIError(.unauthorized, "stale_signature", "the signature's timestamp is \(abs(now - timestamp)) s from the server's clock; at most \(settings.toleranceSeconds) s is accepted")
        }
        guard let sealed = stored.sealed else { throw APIError(.unauthorized, "unauthenticated", "this webhook has no signing secret; rotate it") }
        let secret = try await call.state.vault.open(sealed, connectionID: "trigger:\(trigger.id)", keyVersion: stored.keyVersion ?? 0)["secret"] ?? ""
        var signed = Data("\(timestampText).".utf8)
        signed.append(body)
        let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
        let given = String(signatureText.dropFirst(7)).lowercased()
        guard constantTimeEqual(expected, given) else { throw APIError(.unauthorized, "bad_signature", "the signature does not match the body") }
        guard try await call.state.store.recordWebhookDelivery(triggerID: trigger.id, signature: given, windowMillis: Int64(settings.toleranceSeconds) * 2000) else {
            throw APIError(.conflict, "replayed", "this signed delivery was already received")
        }
    }

    /// The event: a JSON object body's fields; any other JSON (or text) as `body`; nothing for an empty body.
    static func event(from body: Data) -> TriggerEvent {
        if body.isEmpty { return TriggerEvent([:]) }
        let text = String(decoding: body, as: UTF8.self)
        switch JSONValue.parse(text) {
        case let .object(fields)?: return TriggerEvent(fields)
        case let value?: return TriggerEvent(["body": value])
        case nil: return TriggerEvent(["body": .string(text)])
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
