import Foundation
import Scheduler
import Testing

/// Cron parsing and next fire times across DST changes, month ends and leap years (no sleeping: pure functions).
@Suite struct CronTests {
    /// The next `count` fire times after `from` (ISO-8601 with offset), printed in the schedule's zone.
    func fires(_ expression: String, _ zone: String, from: String, count: Int = 4) throws -> [String] {
        let timeZone = try #require(TimeZone(identifier: zone))
        let start = try #require(ISO8601DateFormatter().date(from: from))
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        return CronSchedule(try CronExpression(expression), timeZone: timeZone).next(count, after: start).map { formatter.string(from: $0) }
    }

    @Test func fieldsNamesListsRangesStepsAndMacros() throws {
        #expect(try fires("*/15 9-10 * * MON-FRI", "UTC", from: "2024-03-08T10:40:00Z") == [
            "2024-03-08T10:45:00Z", "2024-03-11T09:00:00Z", "2024-03-11T09:15:00Z", "2024-03-11T09:30:00Z"])
        #expect(try fires("0 12 1,15 JAN,jul *", "UTC", from: "2024-01-15T12:00:00Z", count: 3) == [
            "2024-07-01T12:00:00Z", "2024-07-15T12:00:00Z", "2025-01-01T12:00:00Z"])
        #expect(try fires("@weekly", "UTC", from: "2024-03-06T00:00:00Z", count: 2) == ["2024-03-10T00:00:00Z", "2024-03-17T00:00:00Z"])
        #expect(try fires("@hourly", "UTC", from: "2024-03-06T23:59:59Z", count: 1) == ["2024-03-07T00:00:00Z"])
        #expect(try fires("30 5/20 * * * *", "UTC", from: "2024-03-06T00:00:00Z", count: 4) == [
            "2024-03-06T00:05:30Z", "2024-03-06T00:25:30Z", "2024-03-06T00:45:30Z", "2024-03-06T01:05:30Z"])
        // Sunday is 0 or 7; both day fields restricted means either matches.
        #expect(try fires("0 0 13 * 5", "UTC", from: "2024-09-01T00:00:00Z", count: 3) == [
            "2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z"])
        #expect(try fires("0 0 * * 7", "UTC", from: "2024-09-01T00:00:00Z", count: 1) == ["2024-09-08T00:00:00Z"])
    }

    @Test func monthEndsAndLeapYears() throws {
        #expect(try fires("0 0 31 * *", "UTC", from: "2024-01-31T00:00:00Z", count: 3) == [
            "2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z"])
        #expect(try fires("0 0 29 2 *", "UTC", from: "2024-03-01T00:00:00Z", count: 2) == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        #expect(try fires("0 0 30 2 *", "UTC", from: "2024-03-01T00:00:00Z", count: 1) == [])
    }

    @Test func springForwardGapsFireOnceWhenTheGapEnds() throws {
        // Berlin: 2024-03-31 02:00 → 03:00.
        #expect(try fires("30 2 * * *", "Europe/Berlin", from: "2024-03-30T00:00:00Z", count: 3) == [
            "2024-03-30T02:30:00+01:00", "2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"])
        #expect(try fires("*/20 * * * *", "Europe/Berlin", from: "2024-03-31T00:30:00Z", count: 4) == [
            "2024-03-31T01:40:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T03:20:00+02:00", "2024-03-31T03:40:00+02:00"])
        // New York: 2024-03-10 02:00 → 03:00.
        #expect(try fires("15 2 * * *", "America/New_York", from: "2024-03-09T12:00:00Z", count: 2) == [
            "2024-03-10T03:00:00-04:00", "2024-03-11T02:15:00-04:00"])
        // Lord Howe moves by 30 minutes: 2024-10-06 02:00 → 02:30.
        #expect(try fires("10 2 * * *", "Australia/Lord_Howe", from: "2024-10-04T12:00:00Z", count: 3) == [
            "2024-10-05T02:10:00+10:30", "2024-10-06T02:30:00+11:00", "2024-10-07T02:10:00+11:00"])
    }

    @Test func fallBackRepeatsFireOnTheFirstOccurrenceOnly() throws {
        // Berlin: 2024-10-27 03:00 → 02:00; 02:30 happens twice.
        #expect(try fires("30 2 * * *", "Europe/Berlin", from: "2024-10-26T12:00:00Z", count: 2) == [
            "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"])
        // Every 30 minutes through the repeated hour: each local time once.
        #expect(try fires("0,30 * * * *", "Europe/Berlin", from: "2024-10-26T23:45:00Z", count: 4) == [
            "2024-10-27T02:00:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-27T03:00:00+01:00", "2024-10-27T03:30:00+01:00"])
        // Starting inside the second pass does not fire the repeated times again.
        #expect(try fires("30 2 * * *", "Europe/Berlin", from: "2024-10-27T01:10:00Z", count: 1) == ["2024-10-28T02:30:00+01:00"])
        // New York 2024-11-03 02:00 → 01:00; Lord Howe 2024-04-07 02:00 → 01:30.
        #expect(try fires("45 1 * * *", "America/New_York", from: "2024-11-02T12:00:00Z", count: 2) == [
            "2024-11-03T01:45:00-04:00", "2024-11-04T01:45:00-05:00"])
        #expect(try fires("40 1 * * *", "Australia/Lord_Howe", from: "2024-04-05T12:00:00Z", count: 3) == [
            "2024-04-06T01:40:00+11:00", "2024-04-07T01:40:00+11:00", "2024-04-08T01:40:00+10:30"])
    }

    @Test func badExpressionsNameTheField() {
        for (text, fragment) in [("* * *", "needs 5"), ("61 * * * *", "minute value 61"), ("* * * FOO *", "month value 'FOO'"),
                                 ("*/0 * * * *", "step"), ("5-1 * * * *", "runs backwards"), ("@often", "unknown macro"), ("1,,2 * * * *", "empty list item")] {
            #expect(throws: CronError.self) { try CronExpression(text) }
            do { _ = try CronExpression(text) } catch { #expect(error.message.contains(fragment), "\(text): \(error.message)") }
        }
    }
}
