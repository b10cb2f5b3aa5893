import Crypto
public import Foundation
import NodeKit
import Scheduler
public import Store

/// How a webhook delivery proves itself: the trigger's secret as a bearer token, or an HMAC-SHA256 signature
/// of `TIMESTAMP.BODY` with its timestamp (Unix seconds).
public struct WebhookCredentials: Sendable {
    public var token: String?
    public var timestamp: String?
    public var signature: String?

    public init(token: String?, timestamp: String?, signature: String?) {
        self.token = token
        self.timestamp = timestamp
        self.signature = signature
    }
}

/// Webhook deliveries: authenticate one (token or signature, replays refused), then fire the trigger with the
/// body as its event.
extension Triggers {
    /// Takes a delivery to webhook `id`: checks its size and credentials, then fires the trigger (its rule applies).
    public func deliver(_ id: String, body: Data, credentials: WebhookCredentials) async throws -> TriggerFiring {
        let (trigger, definition, settings) = try await webhook(id)
        guard body.count <= settings.maxBodyBytes else {
            throw ServiceError(.tooLarge, "body_too_large", "the body has \(body.count) bytes; this webhook accepts at most \(settings.maxBodyBytes)")
        }
        guard let stored = try await store.triggerSecret(id: trigger.id) else {
            throw ServiceError(.unauthenticated, "unauthenticated", "this webhook has no secret; rotate it to get one")
        }
        if settings.hmac {
            try await verify(timestamp: credentials.timestamp, signature: credentials.signature, body: body, trigger: trigger, stored: stored, settings: settings)
        } else {
            guard let token = credentials.token, Self.constantTimeEqual(OpaqueToken.digest(token), stored.hash) else {
                throw ServiceError(.unauthenticated, "unauthenticated", "missing or wrong webhook token (send it as 'Authorization: Bearer …' or 'X-Sluice-Token')")
            }
        }
        guard trigger.enabled else { throw ServiceError(.conflict, "trigger_disabled", "trigger '\(trigger.name)' is disabled") }
        guard let firing = try await context.dispatcher.fire(trigger, rule: definition.rule, event: Self.event(from: body), expectedVersion: nil, newState: nil) else {
            throw ServiceError(.conflict, "conflict", "the trigger changed while firing; try again")
        }
        return firing
    }

    func webhook(_ id: String) async throws -> (TriggerRecord, TriggerDefinition, WebhookTrigger) {
        guard let trigger = try await store.trigger(id: id), trigger.kind == WebhookTrigger.name else { throw ServiceError.notFound("webhook '\(id)'") }
        let definition = try TriggerDefinition.load(trigger)
        guard let settings = definition.settings as? WebhookTrigger else { throw ServiceError.notFound("webhook") }
        return (trigger, definition, settings)
    }

    func verify(timestamp timestampText: String?, signature signatureText: String?, body: Data, trigger: TriggerRecord,
                stored: StoredTriggerSecret, settings: WebhookTrigger) async throws {
        guard let timestampText, let timestamp = Int64(timestampText), let signatureText, signatureText.hasPrefix("sha256=") else {
            throw ServiceError(.unauthenticated, "unauthenticated", "a signed webhook needs 'X-Sluice-Timestamp' (Unix seconds) and 'X-Sluice-Signature: sha256=HEX'")
        }
        let now = store.now() / 1000
        guard abs(now - timestamp) <= Int64(settings.toleranceSeconds) else {
            throw ServiceError(.unauthenticated, "stale_signature",
                               "the signature's timestamp is \(abs(now - timestamp)) s from the server's clock; at most \(settings.toleranceSeconds) s is accepted")
        }
        guard let sealed = stored.sealed else { throw ServiceError(.unauthenticated, "unauthenticated", "this webhook has no signing secret; rotate it") }
        let secret = try await context.vault.open(sealed, connectionID: "trigger:\(trigger.id)", keyVersion: stored.keyVersion ?? 0)["secret"] ?? ""
        var signed = Data("\(timestampText).".utf8)
        signed.append(body)
        let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
        let given = String(signatureText.dropFirst(7)).lowercased()
        guard Self.constantTimeEqual(expected, given) else { throw ServiceError(.unauthenticated, "bad_signature", "the signature does not match the body") }
        guard try await store.recordWebhookDelivery(triggerID: trigger.id, signature: given, windowMillis: Int64(settings.toleranceSeconds) * 2000) else {
            throw ServiceError(.conflict, "replayed", "this signed delivery was already received")
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
