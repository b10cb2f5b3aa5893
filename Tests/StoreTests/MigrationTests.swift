import Foundation
@testable import Store
import Testing

/// Migrations that rewrite stored data, run against a store holding data written before them.
@Suite struct MigrationTests {
    @Test(arguments: Backend.allCases)
    func triggerSettingsMoveToCamelCaseKeys(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let snake = #"{"attachments_directory":"mail-files","connection":"mail","has_attachment":true,"max_message_bytes":2048,"#
                + #""max_messages_per_poll":5,"poll_every":"2m","subject":"poll_every"}"#
            let trigger = try await store.createTrigger(TriggerRecord(name: "old-mail", kind: "imap", settingsJSON: snake, overlap: "queue", missed: "latest",
                                                                      missedCap: 10, createdBy: "root"))
            // As a store written before migration 4: its settings still in snake_case.
            try await store.database.transaction { session in try await session.execute("DELETE FROM schema_migrations WHERE version = 4") }
            try await Migrations.run(on: store.database, now: 1)
            let migrated = try #require(try await store.trigger(id: trigger.id))
            #expect(JSONValue.parse(migrated.settingsJSON) == JSONValue.parse(#"{"attachmentsDirectory":"mail-files","connection":"mail","hasAttachment":true,"#
                + #""maxMessageBytes":2048,"maxMessagesPerPoll":5,"pollEvery":"2m","subject":"poll_every"}"#), "\(migrated.settingsJSON)")
        }
    }
}
