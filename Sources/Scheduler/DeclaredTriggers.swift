import Foundation
public import NodeKit
public import Store

/// Triggers declared in a pipeline document's `triggers:` block, so a pipeline file in git carries its schedule.
///
/// Each entry is a trigger without `pipelines` (it starts the pipeline that declares it) and with optional
/// `parameters`. In the store it is named `PIPELINE/NAME`, lives as long as the pipeline, and is replaced on
/// every save; its state (last fire time, watermark, seen files) is kept while its kind and settings stay the same.
public enum DeclaredTriggers {
    /// Checks the document's triggers; every problem names `triggers[i].field` and its line.
    public static func definitions(_ document: PipelineDocument) throws(ConfigErrors) -> [TriggerDefinition] {
        var definitions: [TriggerDefinition] = [], errors: [ConfigError] = []
        for (index, entry) in document.triggers.enumerated() {
            do throws(TriggerConfigError) {
                let definition = try TriggerDefinition.parse(JSONValue(entry), readsLinks: false)
                if definitions.contains(where: { $0.name == definition.name }) {
                    throw TriggerConfigError("duplicate_trigger", "two triggers are named '\(definition.name)'", field: "name")
                }
                definitions.append(definition)
            } catch {
                let path = error.field.map { "triggers[\(index)].\($0)" } ?? "triggers[\(index)]"
                let location = error.field.flatMap { locate($0, in: entry) } ?? entry.location
                errors.append(ConfigError(code: error.code, message: "trigger \(index + 1): \(error.message)", location: location, field: path))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return definitions
    }

    /// Makes the store's declared triggers of `pipeline` match `definitions`.
    public static func sync(_ definitions: [TriggerDefinition], pipeline: PipelineRecord, store: MetadataStore, author: String) async throws {
        let existing = try await store.declaredTriggers(pipelineID: pipeline.id)
        var kept: Set<String> = []
        for definition in definitions {
            var record = definition.record(createdBy: author, declaredIn: pipeline.id)
            record.name = "\(pipeline.name)/\(definition.name)"
            record.links = definition.links.map { TriggerLink(pipelineID: pipeline.id, parameters: $0.parameters) }
            if let current = existing.first(where: { $0.name == record.name || $0.name.hasSuffix("/" + definition.name) }) {
                record.id = current.id
                let sameSource = current.kind == record.kind && JSONValue.parse(current.settingsJSON) == definition.settingsJSON
                _ = try await store.updateTrigger(record, resetStateJSON: sameSource ? nil : "{}")
                kept.insert(current.id)
            } else {
                kept.insert(try await store.createTrigger(record).id)
            }
        }
        for trigger in existing where !kept.contains(trigger.id) { try await store.deleteTrigger(id: trigger.id) }
    }

    /// The location of a dotted field (`settings.schedule`) inside an entry, for error messages.
    static func locate(_ field: String, in entry: Setting) -> SourceLocation? {
        var current: Setting? = entry
        var location = entry.location
        for part in field.split(separator: ".") {
            current = current?[String(part)]
            if let found = current?.location { location = found }
        }
        return location
    }
}
