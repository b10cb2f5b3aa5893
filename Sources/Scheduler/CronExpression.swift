import Foundation

/// A cron schedule: five fields (minute hour day-of-month month day-of-week) or six (seconds first),
/// with names (`JAN`, `MON`), lists, ranges, steps and the macros `@hourly @daily @weekly @monthly @yearly`.
///
/// Day-of-month and day-of-week follow classic cron: when both are restricted, a day matching either fires.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let seconds: Set<Int>
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday (7 is read as Sunday).
    public let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    public let description: String

    static let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                         "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; the error names the field and what was expected.
    public init(_ text: String) throws(CronError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") { throw CronError("unknown macro '\(trimmed)'; use @hourly, @daily, @weekly, @monthly or @yearly") }
        var fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw CronError("'\(text)' has \(fields.count) field(s); cron needs 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)")
        }
        if fields.count == 5 { fields.insert("0", at: 0) }
        seconds = try Self.field(fields[0], name: "seconds", range: 0...59)
        minutes = try Self.field(fields[1], name: "minute", range: 0...59)
        hours = try Self.field(fields[2], name: "hour", range: 0...23)
        daysOfMonth = try Self.field(fields[3], name: "day of month", range: 1...31)
        months = try Self.field(fields[4], name: "month", range: 1...12, names: Self.monthNames, firstName: 1)
        let week = try Self.field(fields[5], name: "day of week", range: 0...7, names: Self.dayNames, firstName: 0)
        daysOfWeek = Set(week.map { $0 == 7 ? 0 : $0 })
        dayOfMonthRestricted = !fields[3].hasPrefix("*") && fields[3] != "?"
        dayOfWeekRestricted = !fields[5].hasPrefix("*") && fields[5] != "?"
        description = trimmed
    }

    /// True when the civil date matches the day fields (classic cron: either day field when both are restricted).
    func matchesDay(_ date: CivilDateTime) -> Bool {
        let dom = daysOfMonth.contains(date.day), dow = daysOfWeek.contains(date.weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dom || dow }
        return dom && dow
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw CronError("\(name) field '\(text)' has an empty list item") }
            var body = Substring(part)
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                guard let value = Int(part[part.index(after: slash)...]), value > 0 else {
                    throw CronError("\(name) field '\(text)': the step after '/' must be a positive number")
                }
                step = value
                body = part[..<slash]
            }
            var low: Int, high: Int
            if body == "*" || body == "?" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = body.firstIndex(of: "-") {
                low = try value(body[..<dash], name: name, range: range, names: names, firstName: firstName)
                high = try value(body[body.index(after: dash)...], name: name, range: range, names: names, firstName: firstName)
                guard low <= high else { throw CronError("\(name) field '\(text)': range \(body) runs backwards") }
            } else {
                low = try value(body, name: name, range: range, names: names, firstName: firstName)
                // `5/15` means from 5 to the end, every 15.
                high = part.contains("/") ? range.upperBound : low
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private static func value(_ text: Substring, name: String, range: ClosedRange<Int>, names: [String], firstName: Int) throws(CronError) -> Int {
        if let number = Int(text) {
            guard range.contains(number) else { throw CronError("\(name) value \(number) is outside \(range.lowerBound)-\(range.upperBound)") }
            return number
        }
        if let index = names.firstIndex(of: text.uppercased()) { return index + firstName }
        let expected = names.isEmpty ? "a number \(range.lowerBound)-\(range.upperBound)" : "a number \(range.lowerBound)-\(range.upperBound) or a name (\(names.joined(separator: " ")))"
        throw CronError("\(name) value '\(text)' is not \(expected)")
    }
}

/// A cron expression that does not parse, with the field and what was expected.
public struct CronError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
