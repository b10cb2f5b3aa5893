import ArgumentParser
import Foundation
import Scheduler

/// `sluice cron next`: check a cron expression before saving it.
struct CronCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cron", abstract: "Check cron expressions.", subcommands: [Next.self])

    struct Next: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "next",
            abstract: "Print the next fire times of a cron expression, one ISO-8601 time with offset per line.",
            discussion: "Five fields (minute hour day-of-month month day-of-week) or six (seconds first); names, lists, ranges, steps, @hourly @daily @weekly @monthly @yearly. Local times skipped by DST fire once when the gap ends; repeated ones fire on their first occurrence.")

        @Argument(help: "The expression, e.g. \"*/15 9-17 * * MON-FRI\".")
        var expression: String

        @Option(help: ArgumentHelp("IANA time zone (default: UTC).", valueName: "zone"))
        var tz = "UTC"

        @Option(help: ArgumentHelp("Start after this time (ISO-8601 with offset; default: now).", valueName: "time"))
        var from: String?

        @Option(help: "How many fire times.")
        var count = 5

        func run() async throws {
            guard let zone = TimeZone(identifier: tz) else { throw ValidationError("unknown time zone '\(tz)'; use an IANA name such as Europe/Berlin") }
            guard (1...1000).contains(count) else { throw ValidationError("--count must be 1 to 1000") }
            let parser = ISO8601DateFormatter()
            var start = Date()
            if let from {
                parser.formatOptions = [.withInternetDateTime]
                guard let date = parser.date(from: from) else { throw ValidationError("--from must be ISO-8601 with an offset, e.g. 2024-03-30T00:00:00+01:00") }
                start = date
            }
            let expression: CronExpression
            do {
                expression = try CronExpression(self.expression)
            } catch {
                Terminal.error("sluice cron next: \(error.message)")
                throw ExitStatus.invalid
            }
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = zone
            formatter.formatOptions = [.withInternetDateTime]
            let times = CronSchedule(expression, timeZone: zone).next(count, after: start)
            if times.isEmpty { Terminal.error("sluice cron next: '\(self.expression)' never fires") }
            for time in times { print(formatter.string(from: time)) }
        }
    }
}
