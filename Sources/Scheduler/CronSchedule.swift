import Columnar
import Foundation

/// A wall-clock date and time without a zone, as cron fields see it.
struct CivilDateTime: Sendable, Equatable {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    /// 0 = Sunday … 6 = Saturday.
    var weekday: Int {
        let days = CivilTime.days(year: Int64(year), month: Int64(month), day: Int64(day))
        // 1970-01-01 was a Thursday (4).
        return Int(((days % 7) + 7 + 4) % 7)
    }

    /// Seconds since the epoch if this wall-clock time were UTC.
    var naiveSeconds: Int64 {
        CivilTime.days(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    init(naiveSeconds: Int64) {
        let days = naiveSeconds >= 0 ? naiveSeconds / 86_400 : (naiveSeconds - 86_399) / 86_400
        let (y, m, d) = CivilTime.civil(days: days)
        let rest = Int(naiveSeconds - days * 86_400)
        self.init(year: Int(y), month: Int(m), day: Int(d), hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60)
    }
}

/// A cron expression in an IANA time zone: computes fire times.
///
/// Daylight saving time: every matching local time fires **once**. Local times skipped by a spring-forward
/// gap fire once, at the instant the gap ends (a 02:30 job runs at 03:00 on that day, a job every 15 minutes
/// fires once for the whole gap); local times that occur twice in a fall-back fire on their first occurrence only.
public struct CronSchedule: Sendable {
    public let expression: CronExpression
    public let timeZone: TimeZone

    public init(_ expression: CronExpression, timeZone: TimeZone) {
        self.expression = expression
        self.timeZone = timeZone
    }

    /// The first fire time strictly after `date` (nil only for expressions that can never match, e.g. Feb 30).
    public func next(after date: Date) -> Date? {
        let after = Int64(floor(date.timeIntervalSince1970))
        var local = CivilDateTime(naiveSeconds: after + Int64(timeZone.secondsFromGMT(for: date)) + 1)
        // Thirty years is enough for any expression that matches at all (Feb 29 on a Monday recurs within 28).
        let limit = local.year + 30
        while local.year <= limit {
            guard let candidate = nextMatch(from: local) else { return nil }
            if let instant = instant(of: candidate), instant > after { return Date(timeIntervalSince1970: TimeInterval(instant)) }
            // Already fired on its first occurrence (fall-back repeat), or before `date`: move on by a second.
            local = CivilDateTime(naiveSeconds: candidate.naiveSeconds + 1)
        }
        return nil
    }

    /// The next `count` fire times after `date`.
    public func next(_ count: Int, after date: Date) -> [Date] {
        var times: [Date] = []
        var cursor = date
        while times.count < count, let next = next(after: cursor) {
            times.append(next)
            cursor = next
        }
        return times
    }

    /// The first local time at or after `start` matching every field.
    func nextMatch(from start: CivilDateTime) -> CivilDateTime? {
        var t = start
        let e = expression
        for _ in 0..<100_000 {
            if t.year > start.year + 30 { return nil }
            if !e.months.contains(t.month) {
                t = CivilDateTime(year: t.month == 12 ? t.year + 1 : t.year, month: t.month % 12 + 1, day: 1, hour: 0, minute: 0, second: 0)
                continue
            }
            let daysInMonth = Int(CivilTime.daysInMonth(year: Int64(t.year), month: Int64(t.month)))
            if t.day > daysInMonth || !e.matchesDay(t) {
                t = CivilDateTime(naiveSeconds: CivilDateTime(year: t.year, month: t.month, day: t.day, hour: 0, minute: 0, second: 0).naiveSeconds + 86_400)
                continue
            }
            if !e.hours.contains(t.hour) {
                t = CivilDateTime(naiveSeconds: CivilDateTime(year: t.year, month: t.month, day: t.day, hour: t.hour, minute: 0, second: 0).naiveSeconds + 3600)
                continue
            }
            if !e.minutes.contains(t.minute) {
                t = CivilDateTime(naiveSeconds: CivilDateTime(year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: 0).naiveSeconds + 60)
                continue
            }
            if !e.seconds.contains(t.second) {
                t = CivilDateTime(naiveSeconds: t.naiveSeconds + 1)
                continue
            }
            return t
        }
        return nil
    }

    /// The instant of a local time: the earlier one when it occurs twice, the end of the gap when it is skipped.
    func instant(of local: CivilDateTime) -> Int64? {
        let naive = local.naiveSeconds
        let offsets = Set([naive - 86_400, naive, naive + 86_400].map { Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval($0)))) })
        var candidates: [Int64] = []
        for offset in offsets {
            let instant = naive - offset
            if Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))) == offset { candidates.append(instant) }
        }
        if let first = candidates.min() { return first }
        // Skipped by a gap: fire when the gap ends.
        let before = naive - (offsets.min() ?? 0) - 2 * 86_400
        guard let transition = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(before))) else { return nil }
        return Int64(transition.timeIntervalSince1970.rounded(.up))
    }
}
