import ArgumentParser
import Foundation
import Scheduler
import Server
import Store

/// `sluice triggers list|history`: the server's triggers and their firings, read from its store.
struct TriggersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "triggers", abstract: "List triggers and their firing history (from a server's store).",
                                                    subcommands: [List.self, History.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every trigger: kind, enabled, linked pipelines, last firing.")
        @OptionGroup var storeOptions: StoreOptions
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let store = try await MetadataStore.open(try storeOptions.configuration().store)
            let triggers = try await store.triggers()
            var pipelines: [String: String] = [:]
            for link in triggers.flatMap(\.links) where pipelines[link.pipelineID] == nil {
                pipelines[link.pipelineID] = try await store.pipeline(id: link.pipelineID)?.name ?? link.pipelineID
            }
            var lines: [String] = []
            for trigger in triggers {
                let last = try await store.firings(triggerID: trigger.id, limit: 1).first
                let names = trigger.links.map { pipelines[$0.pipelineID] ?? $0.pipelineID }
                if json {
                    lines.append(JSONValue.object([
                        "id": .string(trigger.id), "name": .string(trigger.name), "kind": .string(trigger.kind), "enabled": .bool(trigger.enabled),
                        "settings": JSONValue.parse(trigger.settingsJSON) ?? .null, "pipelines": .array(names.map(JSONValue.string)),
                        "last_fired_at": last.map { .int($0.at) } ?? .null, "last_outcome": last.map { .string($0.outcome) } ?? .null,
                    ]).text)
                } else {
                    let when = last.map { "\(TriggerEvent.isoTime($0.at)) \($0.outcome)" } ?? "never fired"
                    lines.append("\(trigger.name)\t\(trigger.kind)\t\(trigger.enabled ? "enabled" : "disabled")\t→ \(names.joined(separator: ", "))\t\(when)\t\(trigger.id)")
                }
            }
            await store.database.close()
            if lines.isEmpty, !json { print("no triggers") }
            for line in lines { print(line) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "A trigger's firings, newest first: event, rule result, runs.")
        @Argument(help: "The trigger's name or id.") var trigger: String
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "At most this many firings.") var limit = 20
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let store = try await MetadataStore.open(try storeOptions.configuration().store)
            let all = try await store.triggers()
            guard let found = all.first(where: { $0.id == trigger || $0.name == trigger }) else {
                await store.database.close()
                throw ValidationError("no trigger named '\(trigger)'; `sluice triggers list` shows them")
            }
            let firings = try await store.firings(triggerID: found.id, limit: max(1, limit))
            await store.database.close()
            for firing in firings {
                if json {
                    print(JSONValue.object([
                        "id": .string(firing.id), "at": .int(firing.at), "event": JSONValue.parse(firing.eventJSON) ?? .null, "rule_result": .string(firing.ruleResult),
                        "runs": .array(firing.runIDs.map(JSONValue.string)), "outcome": .string(firing.outcome), "detail": firing.detail.map(JSONValue.string) ?? .null,
                    ]).text)
                } else {
                    let runs = firing.runIDs.isEmpty ? "no runs" : "runs " + firing.runIDs.joined(separator: ", ")
                    print("\(TriggerEvent.isoTime(firing.at))\t\(firing.outcome)\trule: \(firing.ruleResult)\t\(runs)\t\(firing.eventJSON)\(firing.detail.map { "\t\($0)" } ?? "")")
                }
            }
            if firings.isEmpty, !json { print("'\(found.name)' has not fired yet") }
        }
    }
}
