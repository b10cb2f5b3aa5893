public import NodeKit
public import Store

/// `webhook`: fires when its URL is called; callers prove themselves with a bearer secret or an HMAC signature.
public struct WebhookTrigger: TriggerKind {
    enum Auth: String, Choice { case token, hmac }

    static let auth = Field<Auth>("auth", summary: "token: a bearer secret; hmac: an HMAC-SHA256 signature over timestamp.body.", default: .token)
    static let maxBodyBytes = Field<Int>("maxBodyBytes", summary: "The largest body accepted (at most 16 MiB).", default: 1_048_576)
    static let toleranceSeconds = Field<Int>("toleranceSeconds", summary: "How far a signed timestamp may be from the server's clock (10–3600).", default: 300)

    public static let name = "webhook"
    public static let summary = "When its URL is called."
    public static let fields = [auth.spec, maxBodyBytes.spec, toleranceSeconds.spec]
    public static let sampleEvent: TriggerEvent? = nil
    public static var isPolled: Bool { false }

    /// HMAC-SHA256 signature over `timestamp.body` instead of a bearer token.
    public let hmac: Bool
    public let maxBodyBytes: Int
    /// How far a signed timestamp may be from the server's clock.
    public let toleranceSeconds: Int
    public var pollMillis: Int64 { 0 }

    public init(_ settings: Settings) throws(ConfigError) {
        hmac = try settings[Self.auth] == .hmac
        maxBodyBytes = try settings.int(Self.maxBodyBytes, in: 1...16_777_216)
        toleranceSeconds = try settings.int(Self.toleranceSeconds, in: 10...3600)
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        []
    }
}
