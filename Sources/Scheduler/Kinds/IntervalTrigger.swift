public import NodeKit
public import Store

/// `interval`: every N, aligned to the clock (multiples of N since the epoch) or counted from the end of the last run.
public struct IntervalTrigger: TriggerKind, ScheduledTrigger {
    enum Align: String, Choice {
        case clock
        case lastRun = "last_run"
    }

    static let every = Field<Duration>("every", summary: "The interval (30s, 15m, 2h, 1d).", example: "15m")
    static let align = Field<Align>("align", summary: "clock: multiples of the interval since the epoch; last_run: the interval after the last run ended.", default: .clock)

    public static let name = "interval"
    public static let summary = "Every so often, on the clock or after the last run."
    public static let fields = [every.spec, align.spec]
    public static let sampleEvent: TriggerEvent? = TimeTriggers.sampleEvent
    public static var defaultOverlap: OverlapPolicy { .skip }

    public let everyMillis: Int64
    public let fromLastRun: Bool
    public var pollMillis: Int64 { 0 }

    public init(_ settings: Settings) throws(ConfigError) {
        everyMillis = try settings.millis(Self.every)
        fromLastRun = try settings[Self.align] == .lastRun
    }

    func next(after millis: Int64) -> Int64? {
        guard !fromLastRun else { return nil }
        return (millis >= 0 ? millis / everyMillis + 1 : millis / everyMillis) * everyMillis
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        if fromLastRun { return try await scheduler.checkFromLastRun(trigger, definition, everyMillis: everyMillis, state: state, now: now) }
        return try await scheduler.checkSchedule(trigger, definition, self, state: state, now: now)
    }
}
