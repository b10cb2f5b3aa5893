import Foundation

/// A trigger at a glance, for the Triggers page: when it fires, in words, and its next fire times (time
/// triggers, from the same schedule code the scheduler uses).
public enum TriggerGlance {
    /// "at 02:00 every day (Europe/Berlin)", "every 15 minutes (on the clock)", or the kind's summary.
    public static func schedule(_ definition: TriggerDefinition) -> String {
        switch definition.settings {
        case let cron as CronTrigger:
            // The zone as written ("UTC" reads back from Foundation as "GMT").
            let zone = definition.settingsJSON["timezone"]?.stringValue ?? "UTC"
            return CronWords.describe(cron.cron.expression) + " (\(zone))"
        case let interval as IntervalTrigger:
            let every = durationWords(interval.everyMillis)
            return interval.fromLastRun ? "\(every) after the last run ended" : "every \(every) (on the clock)"
        default:
            return type(of: definition.settings).summary
        }
    }

    /// The next `count` fire times after `date` (cron, and interval on the clock); none for other kinds.
    public static func nextFires(_ definition: TriggerDefinition, after date: Date, count: Int) -> [Date] {
        guard let scheduled = definition.settings as? any ScheduledTrigger else { return [] }
        var fires: [Date] = []
        var millis = Int64(date.timeIntervalSince1970 * 1000)
        while fires.count < count, let next = scheduled.next(after: millis) {
            fires.append(Date(timeIntervalSince1970: TimeInterval(next) / 1000))
            millis = next
        }
        return fires
    }

    /// "15 minutes", "1 hour", "90 seconds", "2 days".
    static func durationWords(_ millis: Int64) -> String {
        let units: [(Int64, String)] = [(86_400_000, "day"), (3_600_000, "hour"), (60_000, "minute"), (1000, "second")]
        for (size, name) in units where millis % size == 0 && millis >= size {
            let n = millis / size
            return n == 1 ? "1 \(name)" : "\(n) \(name)s"
        }
        return "\(millis) ms"
    }
}

/// A cron expression in words, for the common shapes; anything else is described by its fields.
enum CronWords {
    static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    static func describe(_ cron: CronExpression) -> String {
        let time = timeWords(cron)
        let days = dayWords(cron)
        return days.isEmpty ? time : "\(time), \(days)"
    }

    /// "at 02:00", "at 09:00 and 17:30", "every 15 minutes", "every hour at :05", "every 10 minutes from 09:00 to 17:59".
    static func timeWords(_ cron: CronExpression) -> String {
        let seconds = cron.seconds.sorted(), minutes = cron.minutes.sorted(), hours = cron.hours.sorted()
        guard seconds != [0] else { return timeWords(minutes: minutes, hours: hours) }
        let secondsPart = seconds.count == 60 ? "every second" : "at second\(seconds.count == 1 ? "" : "s") \(list(seconds.map(String.init)))"
        return minutes.count == 60 && hours.count == 24 ? secondsPart : "\(secondsPart) of " + timeWords(minutes: minutes, hours: hours)
    }

    static func timeWords(minutes: [Int], hours: [Int]) -> String {
        let allMinutes = minutes.count == 60, allHours = hours.count == 24
        let minuteStep = step(minutes, in: 60)
        let hourRange = range(hours)
        if allMinutes {
            return allHours ? "every minute" : "every minute \(hoursWords(hours))"
        }
        if let minuteStep, minuteStep > 1 {
            let every = "every \(minuteStep) minutes"
            if allHours { return every }
            if let hourRange { return "\(every) from \(clock(hourRange.lowerBound, 0)) to \(clock(hourRange.upperBound, 59))" }
            return "\(every) \(hoursWords(hours))"
        }
        if minutes.count == 1, allHours { return "every hour at :\(two(minutes[0]))" }
        if minutes.count == 1, let hourStep = step(hours, in: 24), hourStep > 1 { return "every \(hourStep) hours at :\(two(minutes[0]))" }
        if hours.count * minutes.count <= 6 {
            return "at " + list(hours.flatMap { h in minutes.map { clock(h, $0) } })
        }
        return "at minute\(minutes.count == 1 ? "" : "s") \(list(minutes.map(String.init))) \(hoursWords(hours))"
    }

    /// "" (every day), "Monday to Friday", "on Saturday and Sunday", "on day 1 of the month", "in January".
    static func dayWords(_ cron: CronExpression) -> String {
        var parts: [String] = []
        let weekdays = cron.daysOfWeek.sorted(), monthDays = cron.daysOfMonth.sorted(), months = cron.months.sorted()
        if cron.dayOfWeekRestricted {
            if let r = range(weekdays), r.count >= 3 {
                parts.append("\(dayNames[r.lowerBound]) to \(dayNames[r.upperBound])")
            } else {
                parts.append("on " + list(weekdays.map { dayNames[$0] }))
            }
        }
        if cron.dayOfMonthRestricted {
            let days = "on day\(monthDays.count == 1 ? "" : "s") \(list(monthDays.map(String.init))) of the month"
            parts.append(cron.dayOfWeekRestricted ? "or \(days)" : days)
        }
        if months.count < 12 { parts.append("in " + list(months.map { monthNames[$0 - 1] })) }
        return parts.joined(separator: " ")
    }

    static func hoursWords(_ hours: [Int]) -> String {
        if let r = range(hours) { return "from \(clock(r.lowerBound, 0)) to \(clock(r.upperBound, 59))" }
        return "during hour\(hours.count == 1 ? "" : "s") \(list(hours.map { two($0) }))"
    }

    /// The step of values spread evenly from 0 over a field of `size` (0, 15, 30, 45 → 15), or nil.
    static func step(_ values: [Int], in size: Int) -> Int? {
        guard values.count > 1, values.first == 0 else { return values.count == size ? 1 : nil }
        let step = values[1] - values[0]
        guard zip(values, values.dropFirst()).allSatisfy({ $1 - $0 == step }), values.last! + step >= size else { return nil }
        return step
    }

    /// The values as one contiguous range, or nil.
    static func range(_ values: [Int]) -> ClosedRange<Int>? {
        guard let first = values.first, let last = values.last, values.count == last - first + 1, values.count > 1 else { return nil }
        return first...last
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    static func clock(_ hour: Int, _ minute: Int) -> String { "\(two(hour)):\(two(minute))" }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
