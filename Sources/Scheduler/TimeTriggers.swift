import Foundation

/// Fire times of `cron` and clock-aligned `interval` triggers, and what the missed-schedule policy keeps.
///
/// A fire time is **on time** when it passed less than `graceMillis` ago (the scheduler checks every second);
/// older ones were missed (no scheduler ran then) and follow the trigger's `missed` policy:
/// `none` drops them, `latest` fires only the newest, `all` fires the newest `missed_cap` of them.
enum TimeTriggers {
    static let graceMillis: Int64 = 60_000
    /// At most this many past fire times are looked at; older ones count as dropped.
    static let scanLimit = 10_000

    struct Due: Equatable {
        /// Scheduled times to fire now, oldest first, each marked missed or on time.
        var fire: [(at: Int64, missed: Bool)]
        /// Missed times not fired (policy `none`, or beyond `missed_cap`).
        var dropped: Int
        /// The newest scheduled time handled: the trigger's new `last`.
        var last: Int64

        static func == (a: Due, b: Due) -> Bool { a.fire.map(\.at) == b.fire.map(\.at) && a.fire.map(\.missed) == b.fire.map(\.missed) && a.dropped == b.dropped && a.last == b.last }
    }

    /// The first fire time strictly after `millis`.
    static func next(_ settings: TriggerSettings, after millis: Int64) -> Int64? {
        switch settings {
        case let .cron(schedule):
            // Cron works in whole seconds: the next fire after the second holding `millis`.
            let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
            return schedule.next(after: Date(timeIntervalSince1970: TimeInterval(seconds))).map { Int64($0.timeIntervalSince1970) * 1000 }
        case let .interval(interval) where !interval.fromLastRun:
            let every = interval.everyMillis
            return (millis >= 0 ? millis / every + 1 : millis / every) * every
        default:
            return nil
        }
    }

    /// What is due at `now` for a trigger whose last handled fire time is `last`.
    static func due(_ settings: TriggerSettings, last: Int64, now: Int64, missed policy: MissedPolicy, cap: Int) -> Due {
        var times: [Int64] = []
        var cursor = last, overflow = 0
        while let next = next(settings, after: cursor), next <= now {
            if times.count == scanLimit { times.removeFirst(); overflow += 1 }
            times.append(next)
            cursor = next
        }
        guard let newest = times.last else { return Due(fire: [], dropped: 0, last: last) }
        let onTime = times.filter { now - $0 < graceMillis }
        let missed = times.filter { now - $0 >= graceMillis }
        var fire: [(Int64, Bool)] = []
        var dropped = overflow
        switch policy {
        case .none:
            dropped += missed.count
        case .latest:
            if let latest = missed.last, onTime.isEmpty { fire.append((latest, true)); dropped += missed.count - 1 } else { dropped += missed.count }
        case .all:
            let kept = missed.suffix(cap)
            dropped += missed.count - kept.count
            fire += kept.map { ($0, true) }
        }
        fire += onTime.map { ($0, false) }
        return Due(fire: fire, dropped: dropped, last: newest)
    }

    static func iso(_ millis: Int64) -> String { TriggerEvent.isoTime(millis) }
}
