public import NodeKit
public import Store

/// A trigger kind, declared once: its name, its settings as `Field<T>` declarations (camelCase, read and
/// documented like node settings; they drive validation, `GET /api/v1/trigger-kinds` and the trigger form),
/// the fields its events carry, and how the scheduler checks it. A value of the type is a trigger's checked settings.
///
/// Adding a kind: one file in `Kinds/` with a type adopting this protocol, and one line in `TriggerKinds.all`.
public protocol TriggerKind: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var fields: [FieldSpec] { get }
    /// The fields every event carries, with values of their types, to check rules when a trigger is saved;
    /// nil when events are free-form (webhook bodies).
    static var sampleEvent: TriggerEvent? { get }
    /// What a firing does while the pipeline still runs, when the trigger does not say: a skipped schedule tick
    /// comes again, a skipped event (a mail, a file, a webhook call) would be lost.
    static var defaultOverlap: OverlapPolicy { get }
    /// Whether the scheduler checks it (a webhook fires when called instead).
    static var isPolled: Bool { get }

    /// Reads and checks the settings; errors name the field.
    init(_ settings: Settings) throws(ConfigError)

    /// How often the scheduler checks it, in milliseconds; 0 checks it on every tick (time kinds).
    var pollMillis: Int64 { get }

    /// Looks for events now and fires what is due through the scheduler's dispatcher; returns the firings.
    func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring]
}

extension TriggerKind {
    public static var defaultOverlap: OverlapPolicy { .queue }
    public static var isPolled: Bool { true }
}

/// Every trigger kind this build knows, in the order forms list them.
public enum TriggerKinds {
    public static let all: [any TriggerKind.Type] = [
        CronTrigger.self, IntervalTrigger.self, WebhookTrigger.self, WatermarkTrigger.self, FileArrivalTrigger.self, HTTPPollTrigger.self, MailboxTrigger.self,
    ]

    public static func named(_ name: String) -> (any TriggerKind.Type)? { all.first { $0.name == name } }

    public static var names: [String] { all.map { $0.name } }

    /// Reads a kind's settings from JSON: keys written in the older snake_case (`poll_every`) are read as their
    /// camelCase field (`pollEvery`), unknown keys and empty texts are refused, and every problem names
    /// `settings.<field>`. Returns the settings and their JSON with the camelCase keys (as stored).
    static func read(_ kind: any TriggerKind.Type, _ json: JSONValue) throws(TriggerConfigError) -> (any TriggerKind, JSONValue) {
        guard case let .object(given) = json else { throw TriggerConfigError("'settings' must be an object", field: "settings") }
        let names = kind.fields.map(\.name)
        var fields: [String: JSONValue] = [:]
        for key in given.keys.sorted() {
            let name = names.contains(key) ? key : camelCase(key)
            guard names.contains(name) else {
                throw TriggerConfigError("unknown_key", "unknown setting '\(key)'; a \(kind.name) trigger accepts: \(names.joined(separator: ", "))", field: "settings.\(key)")
            }
            guard fields[name] == nil else { throw TriggerConfigError("'\(key)' is given twice (also as '\(name)')", field: "settings.\(key)") }
            if given[key] == .string("") { throw TriggerConfigError("'\(name)' must not be empty", field: "settings.\(name)") }
            if given[key] != .null { fields[name] = given[key] }
        }
        let normalized = JSONValue.object(fields)
        do {
            return (try kind.init(Settings(node: "trigger", raw: Setting(normalized))), normalized)
        } catch {
            let message = error.expected.map { error.message.contains("expected") ? error.message : "\(error.message) (expected \($0))" } ?? error.message
            throw TriggerConfigError(error.code, message, field: error.field.map { "settings.\($0)" } ?? "settings")
        }
    }

    /// `poll_every` → `pollEvery`.
    static func camelCase(_ key: String) -> String {
        let parts = key.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = parts.first else { return key }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

extension Settings {
    /// A duration field of at least one second, in milliseconds.
    func millis(_ field: Field<Duration>) throws(ConfigError) -> Int64 {
        let duration = try self[field]
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        guard millis >= 1000 else { throw error(field, "'\(field.name)' must be a duration of at least one second, such as 30s, 15m, 2h or 1d") }
        return millis
    }

    /// An integer field within `range`.
    func int(_ field: Field<Int>, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let value = try self[field]
        guard range.contains(value) else { throw error(field, "'\(field.name)' must be an integer in \(range.lowerBound)...\(range.upperBound)") }
        return value
    }
}
