import Foundation
import NodeKit
@testable import Scheduler
import Store
import Testing

/// A trigger at a glance: cron schedules in words, intervals, and the next fire times from the scheduler's own code.
@Suite struct TriggerGlanceTests {
    func definition(_ kind: String, _ settings: [String: JSONValue]) throws -> TriggerDefinition {
        try TriggerDefinition.parse(.object(["name": .string("t"), "kind": .string(kind), "settings": .object(settings)]), readsLinks: false)
    }

    func words(_ schedule: String, zone: String = "UTC") throws -> String {
        TriggerGlance.schedule(try definition("cron", ["schedule": .string(schedule), "timezone": .string(zone)]))
    }

    @Test func cronSchedulesReadAsWords() throws {
        #expect(try words("0 2 * * *") == "at 02:00 (UTC)")
        #expect(try words("30 2 * * 1-5", zone: "Europe/Berlin") == "at 02:30, Monday to Friday (Europe/Berlin)")
        #expect(try words("*/15 * * * *") == "every 15 minutes (UTC)")
        #expect(try words("*/10 9-17 * * MON-FRI") == "every 10 minutes from 09:00 to 17:59, Monday to Friday (UTC)")
        #expect(try words("5 * * * *") == "every hour at :05 (UTC)")
        #expect(try words("0 */6 * * *") == "every 6 hours at :00 (UTC)")
        #expect(try words("0 9,17 * * *") == "at 09:00 and 17:00 (UTC)")
        #expect(try words("0 0 1 * *") == "at 00:00, on day 1 of the month (UTC)")
        #expect(try words("@weekly") == "at 00:00, on Sunday (UTC)")
        #expect(try words("0 8 * * 6,0") == "at 08:00, on Sunday and Saturday (UTC)")
        #expect(try words("0 0 1 1 *") == "at 00:00, on day 1 of the month in January (UTC)")
        #expect(try words("* * * * *") == "every minute (UTC)")
        #expect(try words("*/30 * * * * *") == "at seconds 0 and 30 (UTC)")
        #expect(try words("7,19,23,41,53 1,4,9,13,22 * * *").hasPrefix("at minutes 7, 19, 23, 41 and 53 during hours 01, 04, 09, 13 and 22"))
    }

    @Test func intervalsAndOtherKindsReadAsWords() throws {
        #expect(TriggerGlance.schedule(try definition("interval", ["every": .string("15m")])) == "every 15 minutes (on the clock)")
        #expect(TriggerGlance.schedule(try definition("interval", ["every": .string("1h"), "align": .string("last_run")])) == "1 hour after the last run ended")
        #expect(TriggerGlance.schedule(try definition("webhook", [:])) == WebhookTrigger.summary)
    }

    @Test func nextFireTimesComeFromTheSchedule() throws {
        let monday = try #require(ISO8601DateFormatter().date(from: "2026-12-04T12:00:00Z")) // a Friday
        let fires = TriggerGlance.nextFires(try definition("cron", ["schedule": .string("30 2 * * 1-5")]), after: monday, count: 3)
        let formatter = ISO8601DateFormatter()
        #expect(fires.map(formatter.string) == ["2026-12-07T02:30:00Z", "2026-12-08T02:30:00Z", "2026-12-09T02:30:00Z"])
        let every = TriggerGlance.nextFires(try definition("interval", ["every": .string("15m")]), after: monday, count: 3)
        #expect(every.map(formatter.string) == ["2026-12-04T12:15:00Z", "2026-12-04T12:30:00Z", "2026-12-04T12:45:00Z"])
        #expect(TriggerGlance.nextFires(try definition("webhook", [:]), after: monday, count: 3).isEmpty)
    }
}
