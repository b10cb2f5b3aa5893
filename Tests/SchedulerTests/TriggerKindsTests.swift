import NodeKit
@testable import Scheduler
import Store
import Testing

/// Trigger kinds are declared once: their fields are what they accept, keys are camelCase like node settings,
/// and settings written in the older snake_case still read (and are stored in camelCase).
@Suite struct TriggerKindsTests {
    static let required: [String: [String: JSONValue]] = [
        "cron": ["schedule": .string("0 2 * * *")], "interval": ["every": .string("15m")], "webhook": [:],
        "watermark": ["connection": .string("warehouse"), "table": .string("t"), "column": .string("c")],
        "file": ["directory": .string("incoming")], "http_poll": ["url": .string("https://example.com/feed")], "imap": ["connection": .string("mail")],
    ]

    @Test func everyKindIsRegisteredOnceAndReadsItsRequiredFields() throws {
        #expect(Set(TriggerKinds.names).count == TriggerKinds.all.count)
        #expect(Set(TriggerKinds.names) == Set(Self.required.keys))
        for kind in TriggerKinds.all {
            let (settings, stored) = try TriggerKinds.read(kind, .object(Self.required[kind.name]!))
            #expect(type(of: settings).name == kind.name)
            #expect(stored == .object(Self.required[kind.name]!))
            for field in kind.fields {
                #expect(field.name.first!.isLowercase && !field.name.contains("_"), "\(kind.name).\(field.name) is camelCase")
            }
        }
    }

    @Test func anUnknownSettingIsRefusedNamingWhatTheKindAccepts() throws {
        for kind in TriggerKinds.all {
            var settings = Self.required[kind.name]!
            settings["zzUnknown"] = .int(1)
            do {
                _ = try TriggerKinds.read(kind, .object(settings))
                Issue.record("\(kind.name): an unknown setting was accepted")
            } catch {
                #expect(error.code == "unknown_key" && error.field == "settings.zzUnknown")
                let accepted = error.message.components(separatedBy: "accepts: ").last?.components(separatedBy: ", ") ?? []
                #expect(accepted == kind.fields.map(\.name), "\(kind.name): \(error.message)")
            }
        }
    }

    @Test func snakeCaseSettingsStillReadAndAreStoredInCamelCase() throws {
        let (settings, stored) = try TriggerKinds.read(MailboxTrigger.self, .object([
            "connection": .string("mail"), "poll_every": .string("2m"), "max_messages_per_poll": .int(10), "has_attachment": .bool(true),
            "attachments_directory": .string("mail-files"), "start": .string("all"),
        ]))
        let mailbox = try #require(settings as? MailboxTrigger)
        #expect(mailbox.pollMillis == 120_000 && mailbox.maxMessagesPerPoll == 10 && mailbox.hasAttachment == true && mailbox.includeExisting)
        #expect(mailbox.attachmentsDirectory == "mail-files")
        #expect(stored == .object(["connection": .string("mail"), "pollEvery": .string("2m"), "maxMessagesPerPoll": .int(10), "hasAttachment": .bool(true),
                                   "attachmentsDirectory": .string("mail-files"), "start": .string("all")]))
        do {
            _ = try TriggerKinds.read(WatermarkTrigger.self, .object(["connection": .string("w"), "query": .string("SELECT 1"), "poll_every": .int(5), "pollEvery": .int(6)]))
            Issue.record("the same setting twice was accepted")
        } catch { #expect(error.field == "settings.poll_every") }
    }

    @Test func aBadDurationSaysHowToWriteOne() throws {
        do {
            _ = try TriggerKinds.read(IntervalTrigger.self, .object(["every": .string("soon")]))
            Issue.record("'soon' was read as a duration")
        } catch {
            #expect(error.message.hasPrefix("'soon' is not a duration: write 500ms, 30s, 15m, 2h or 1d (a number alone is seconds)") && error.field == "settings.every", "\(error.message)")
        }
    }

    @Test(arguments: [
        (#"{"schedule": "61 * * * *"}"#, "cron", "settings.schedule", "invalid_cron"),
        (#"{"schedule": "0 2 * * *", "timezone": "Mars/Olympus"}"#, "cron", "settings.timezone", "invalid_value"),
        (#"{"every": "0s"}"#, "interval", "settings.every", "invalid_value"),
        (#"{"every": "1e300s"}"#, "interval", "settings.every", "invalid_value"),
        (#"{"every": "15m", "align": "sometimes"}"#, "interval", "settings.align", "invalid_value"),
        (#"{"maxBodyBytes": 0}"#, "webhook", "settings.maxBodyBytes", "invalid_value"),
        (#"{"connection": "w"}"#, "watermark", "settings.table", "missing_field"),
        (#"{"connection": "w", "table": "t", "column": "c", "query": "SELECT 1"}"#, "watermark", "settings.query", "invalid_value"),
        (#"{}"#, "file", "settings.directory", "missing_field"),
        (#"{"url": "ftp://example.com/x"}"#, "http_poll", "settings.url", "invalid_value"),
        (#"{"url": "https://example.com", "headers": "X-A"}"#, "http_poll", "settings.headers", "invalid_value"),
        (#"{"connection": ""}"#, "imap", "settings.connection", "invalid_value"),
        (#"{"connection": "mail", "maxMessagesPerPoll": 5000}"#, "imap", "settings.maxMessagesPerPoll", "invalid_value"),
    ])
    func badSettingsNameTheirField(json: String, kind: String, field: String, code: String) throws {
        let type = try #require(TriggerKinds.named(kind)), settings = try #require(JSONValue.parse(json))
        do {
            _ = try TriggerKinds.read(type, settings)
            Issue.record("\(json) was accepted")
        } catch {
            #expect(error.field == field && error.code == code, "\(error.code) \(error.description)")
        }
    }
}
