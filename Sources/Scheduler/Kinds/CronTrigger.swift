import Foundation
public import NodeKit
public import Store

/// `cron`: fire times from a cron expression read in an IANA time zone.
public struct CronTrigger: TriggerKind, ScheduledTrigger {
    static let schedule = Field<String>("schedule", summary: "Five fields (or six with seconds), names, lists, ranges, steps, or @hourly/@daily/@weekly/@monthly/@yearly.",
                                        example: "0 2 * * *")
    static let timezone = Field<String>("timezone", summary: "IANA time zone the schedule is read in.", default: "UTC", example: "Europe/Berlin")

    public static let name = "cron"
    public static let summary = "At the times of a cron expression."
    public static let fields = [schedule.spec, timezone.spec]
    public static let sampleEvent: TriggerEvent? = TimeTriggers.sampleEvent
    public static var defaultOverlap: OverlapPolicy { .skip }

    public let cron: CronSchedule
    public var pollMillis: Int64 { 0 }

    public init(_ settings: Settings) throws(ConfigError) {
        let text = try settings[Self.schedule]
        let zoneName = try settings[Self.timezone]
        guard let zone = TimeZone(identifier: zoneName) else {
            throw settings.error(Self.timezone, "unknown time zone '\(zoneName)'; use an IANA name such as Europe/Berlin")
        }
        do { cron = CronSchedule(try CronExpression(text), timeZone: zone) } catch {
            throw settings.error(Self.schedule, error.description, code: "invalid_cron")
        }
    }

    func next(after millis: Int64) -> Int64? {
        // Cron works in whole seconds: the next fire after the second holding `millis`.
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return cron.next(after: Date(timeIntervalSince1970: TimeInterval(seconds))).map { Int64($0.timeIntervalSince1970) * 1000 }
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        try await scheduler.checkSchedule(trigger, definition, self, state: state, now: now)
    }
}
