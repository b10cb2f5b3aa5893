import BuiltinNodes
import Foundation
import NodeKit
import Scheduler
public import Store
import Workers

/// What the Triggers page shows of a trigger besides its definition.
public struct TriggerAtAGlance: Sendable {
    /// When it fires, in words ("at 02:00 every day (UTC)").
    public var schedule: String?
    /// The next fire times (Unix ms), for time triggers that are enabled.
    public var nextFires: [Int64] = []
    public var lastFiring: TriggerFiring?
    /// The phase of the last run its last firing queued.
    public var lastRunStatus: String?
    public var warnings: [String] = []
}

/// Triggers: create and change them, enable and disable, fire now, read their history, rotate webhook secrets,
/// and take webhook deliveries.
///
/// Access follows the linked pipelines: the caller sees a trigger linked to a pipeline they can view; changing it
/// needs the editor role on every linked pipeline, firing it the runner role. Admins may do everything.
/// Triggers declared in a pipeline document are changed by saving the document (a conflict here), but can be
/// enabled, disabled and fired.
public struct Triggers: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }

    /// Triggers linked to pipelines the caller can see (all, for admins).
    public func list(for caller: Caller) async throws -> [TriggerRecord] {
        var visible: [TriggerRecord] = []
        for trigger in try await store.triggers() where try await role(of: caller, on: trigger) != nil { visible.append(trigger) }
        return visible
    }

    /// A trigger at a glance: its schedule in words, its next three fire times (time triggers, while enabled),
    /// its last firing and the status of the run that firing queued, and warnings about its pipelines that only
    /// a schedule makes matter (totals appended to a table). For triggers the caller may see.
    public func glance(_ trigger: TriggerRecord, now: Date) async -> TriggerAtAGlance {
        var glance = TriggerAtAGlance()
        if let definition = try? TriggerDefinition.load(trigger) {
            glance.schedule = TriggerGlance.schedule(definition)
            if trigger.enabled {
                glance.nextFires = TriggerGlance.nextFires(definition, after: now, count: 3).map { Int64($0.timeIntervalSince1970 * 1000) }
            }
        }
        glance.lastFiring = try? await store.firings(triggerID: trigger.id, limit: 1).first
        if let runID = glance.lastFiring?.runIDs.last { glance.lastRunStatus = try? await store.run(id: runID)?.phase.rawValue }
        if trigger.kind != WebhookTrigger.name {
            for link in trigger.links {
                guard let pipeline = try? await store.pipeline(id: link.pipelineID),
                      let text = try? await store.revision(pipelineID: pipeline.id, revision: pipeline.currentRevision)?.document,
                      let document = try? PipelineDocument.parse(text) else { continue }
                glance.warnings += ScheduleWarnings.of(document, registry: BuiltinNodes.registry).map { "\(pipeline.name): \($0)" }
            }
        }
        return glance
    }

    /// Creates a trigger from its JSON definition; a webhook trigger's secret is returned, once.
    public func create(_ json: JSONValue, by caller: Caller) async throws -> (TriggerRecord, secret: String?) {
        let definition = try parse(json)
        try await requireLinks(definition.links, .editor, caller)
        try await requireConnectionUse(definition, caller)
        var record = definition.record(createdBy: caller.name)
        var secret: String?
        var stored: StoredTriggerSecret?
        if definition.settings is WebhookTrigger { (secret, stored) = try await newSecret(for: record.id, definition) }
        record = try await store.createTrigger(record, secret: stored)
        try await context.audit(caller, "trigger_create", target: record.name, detail: record.kind)
        return (record, secret)
    }

    /// One trigger with its state.
    public func get(_ id: String, for caller: Caller) async throws -> TriggerRecord {
        try await require(.viewer, id, caller)
    }

    /// Replaces a trigger's definition; changing its kind or settings resets its state. Editors only.
    /// The definition is read only once the caller is authorized.
    public func update(_ id: String, by caller: Caller, definition json: () throws -> JSONValue) async throws -> TriggerRecord {
        let current = try await require(.editor, id, caller)
        try refuseDeclared(current)
        let definition = try parse(try json())
        try await requireLinks(definition.links, .editor, caller)
        try await requireConnectionUse(definition, caller)
        guard definition.kind == current.kind || !(definition.settings is WebhookTrigger) || current.hasSecret else {
            throw ServiceError(.conflict, "kind_change", "a trigger cannot become a webhook; create a new webhook trigger to get its secret")
        }
        let record = definition.record(id: current.id, createdBy: current.createdBy)
        let sameSource = current.kind == record.kind && JSONValue.parse(current.settingsJSON) == definition.settingsJSON
        guard let saved = try await store.updateTrigger(record, resetStateJSON: sameSource ? nil : "{}") else { throw ServiceError.notFound("trigger") }
        try await context.audit(caller, "trigger_update", target: saved.name)
        return saved
    }

    /// Deletes a trigger and its history (not the runs it started). Editors only.
    public func delete(_ id: String, by caller: Caller) async throws {
        let trigger = try await require(.editor, id, caller)
        try refuseDeclared(trigger)
        try await store.deleteTrigger(id: trigger.id)
        try await context.audit(caller, "trigger_delete", target: trigger.name)
    }

    /// Enables or disables a trigger. Editors only.
    public func setEnabled(_ id: String, _ enabled: Bool, by caller: Caller) async throws -> TriggerRecord {
        let trigger = try await require(.editor, id, caller)
        guard let saved = try await store.setTriggerEnabled(id: trigger.id, enabled: enabled) else { throw ServiceError.notFound("trigger") }
        try await context.audit(caller, enabled ? "trigger_enable" : "trigger_disable", target: trigger.name)
        return saved
    }

    /// Fires the trigger now with a manual event (`extra` fields are added to it); the rule is not applied. Runners only.
    public func fire(_ id: String, by caller: Caller, extra: () throws -> JSONValue?) async throws -> TriggerFiring {
        let trigger = try await require(.runner, id, caller)
        let extra = try extra()
        var fields: [String: JSONValue] = ["manual": .bool(true), "fired_by": .string(caller.name), "fired_at": .string(TriggerEvent.isoTime(store.now()))]
        if let extra {
            guard case let .object(object) = extra else { throw ServiceError.invalid("event must be an object", field: "event") }
            fields.merge(object) { _, given in given }
        }
        guard let firing = try await context.dispatcher.fire(trigger, rule: nil, event: TriggerEvent(fields), expectedVersion: nil, newState: nil) else {
            throw ServiceError(.conflict, "conflict", "the trigger changed while firing; try again")
        }
        try await context.audit(caller, "trigger_fire", target: trigger.name, detail: firing.runIDs.joined(separator: ","))
        return firing
    }

    /// The trigger's firings, newest first.
    public func history(_ id: String, limit: Int, before: Int64?, for caller: Caller) async throws -> [TriggerFiring] {
        let trigger = try await require(.viewer, id, caller)
        return try await store.firings(triggerID: trigger.id, limit: limit, before: before)
    }

    /// Gives a webhook trigger a new secret (returned once); the old one stops working. Editors only.
    public func rotateSecret(_ id: String, by caller: Caller) async throws -> String {
        let trigger = try await require(.editor, id, caller)
        let definition = try TriggerDefinition.load(trigger)
        guard definition.settings is WebhookTrigger else { throw ServiceError(.conflict, "not_a_webhook", "only webhook triggers have a secret") }
        let (secret, stored) = try await newSecret(for: trigger.id, definition)
        try await store.setTriggerSecret(id: trigger.id, stored)
        try await context.audit(caller, "trigger_secret_rotate", target: trigger.name)
        return secret
    }

    // MARK: Access

    /// The caller's effective role on a trigger: admin → owner; otherwise the lowest role over its linked pipelines
    /// (a trigger without links belongs to its creator). Nil when the trigger is not visible to them.
    func role(of caller: Caller, on trigger: TriggerRecord) async throws -> ShareRole? {
        if caller.isAdmin { return .owner }
        if trigger.links.isEmpty { return trigger.createdBy == caller.name ? .owner : nil }
        var lowest: ShareRole = .owner
        var any = false
        for link in trigger.links {
            if let role = try await store.role(of: caller.user, on: link.pipelineID) { lowest = min(lowest, role); any = true } else { lowest = .viewer }
        }
        return any ? lowest : nil
    }

    func require(_ needed: ShareRole, _ id: String, _ caller: Caller) async throws -> TriggerRecord {
        guard let trigger = try await store.trigger(id: id), let role = try await role(of: caller, on: trigger) else { throw ServiceError.notFound("trigger '\(id)'") }
        guard role >= needed else { throw ServiceError.forbidden("this needs the \(needed.rawValue) role on every pipeline the trigger starts; you are \(role.rawValue)") }
        return trigger
    }

    func requireLinks(_ links: [TriggerLink], _ needed: ShareRole, _ caller: Caller) async throws {
        for (index, link) in links.enumerated() {
            guard try await store.pipeline(id: link.pipelineID) != nil, let role = try await store.role(of: caller.user, on: link.pipelineID) else {
                throw ServiceError(.unprocessable, "unknown_pipeline", "pipeline '\(link.pipelineID)' does not exist or is not shared with you",
                                   field: "pipelines[\(index)].pipeline_id")
            }
            guard role >= needed else {
                throw ServiceError.forbidden("linking a trigger to pipeline '\(link.pipelineID)' needs the \(needed.rawValue) role there; you are \(role.rawValue)")
            }
        }
    }

    /// A trigger that polls a stored connection (watermark, mailbox) may be saved only by someone who may use it
    /// (its firings read through that connection), and its directories must lie inside the workspace.
    /// The kind's declared fields say which settings are paths and which name connections.
    func requireConnectionUse(_ definition: TriggerDefinition, _ caller: Caller) async throws {
        guard case let .object(fields) = definition.settingsJSON else { return }
        let declared = type(of: definition.settings).fields
        for field in declared.filter({ $0.kind == .path }).map(\.name) {
            guard let path = fields[field]?.stringValue else { continue }
            do { _ = try context.files.resolve(path) } catch {
                try await context.audit(caller, "access_refused", target: "trigger", detail: "\(error.code): settings.\(field)")
                throw ServiceError(.unprocessable, error.code, error.message, field: "settings.\(field)")
            }
        }
        for field in declared.filter({ $0.kind == .connection }).map(\.name) {
            guard let name = fields[field]?.stringValue, let record = try await store.connection(named: name) else { continue }
            guard try await store.connectionRole(of: caller.user, on: record.id) != nil else { throw ConnectionForbidden(names: [name], actor: caller.name) }
        }
    }

    func refuseDeclared(_ trigger: TriggerRecord) throws {
        if let pipeline = trigger.declaredIn {
            throw ServiceError(.conflict, "declared_in_document", "this trigger is declared in pipeline \(pipeline)'s document; change it by saving the document")
        }
    }

    func parse(_ json: JSONValue) throws -> TriggerDefinition {
        do { return try TriggerDefinition.parse(json, readsLinks: true) } catch {
            throw ServiceError(.unprocessable, error.code, error.message, field: error.field)
        }
    }

    /// A new webhook secret: its hash checks bearer tokens; for HMAC it is also sealed by the vault (which must be unlocked).
    func newSecret(for triggerID: String, _ definition: TriggerDefinition) async throws -> (String, StoredTriggerSecret) {
        let secret = OpaqueToken.make(prefix: "slw_")
        var stored = StoredTriggerSecret(hash: OpaqueToken.digest(secret), sealed: nil, keyVersion: nil)
        if let settings = definition.settings as? WebhookTrigger, settings.hmac {
            let sealed = try await context.vault.seal(["secret": secret], connectionID: "trigger:\(triggerID)")
            stored.sealed = sealed.sealed
            stored.keyVersion = sealed.keyVersion
        }
        return (secret, stored)
    }
}
