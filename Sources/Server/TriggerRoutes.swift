import Foundation
import Scheduler
import Store
import Workers

/// Triggers: CRUD, enable/disable, fire now, history of firings, webhook secret rotation.
///
/// Access follows the linked pipelines: you see a trigger linked to a pipeline you can view; changing it needs
/// the editor role on every linked pipeline, firing it the runner role. Admins may do everything.
/// Triggers declared in a pipeline document are changed by saving the document (409 here), but can be
/// enabled, disabled and fired.
enum TriggerRoutes {
    struct LinkView: Codable { var pipelineId: String; var parameters: [String: String] }
    struct TriggerView: Encodable, APIView {
        static let schema = APISchema.object([
            "id": APISchema.string, "name": APISchema.string, "kind": APISchema.enumeration(kinds), "settings": APISchema.anyObject, "rule": APISchema.nullable(APISchema.string),
            "enabled": APISchema.boolean, "overlap": APISchema.string, "missed": APISchema.string, "missed_cap": APISchema.integer,
            "declared_in": APISchema.nullable(APISchema.string), "pipelines": APISchema.array(linkSchema), "state": APISchema.anyObject, "has_secret": APISchema.boolean,
            "created_by": APISchema.string, "created_at": APISchema.integer, "updated_at": APISchema.integer, "secret": APISchema.string, "webhook_path": APISchema.string,
            "problem": APISchema.string,
        ], optional: ["rule", "declared_in", "secret", "webhook_path", "problem"])

        var id: String, name: String, kind: String, settings: JSONValue, rule: String?, enabled: Bool, overlap: String, missed: String
        var missedCap: Int64, declaredIn: String?, pipelines: [LinkView], state: JSONValue, hasSecret: Bool, createdBy: String
        var createdAt: Int64, updatedAt: Int64
        /// Shown once: on creating a webhook trigger and on rotating its secret.
        var secret: String?
        var webhookPath: String?
        /// Why the stored definition no longer validates (it does not fire until it is saved again), or nil.
        var problem: String?

        init(_ t: TriggerRecord, secret: String? = nil) {
            id = t.id; name = t.name; kind = t.kind; settings = JSONValue.parse(t.settingsJSON) ?? .object([:]); rule = t.rule; enabled = t.enabled
            overlap = t.overlap; missed = t.missed; missedCap = t.missedCap; declaredIn = t.declaredIn
            pipelines = t.links.map { LinkView(pipelineId: $0.pipelineID, parameters: $0.parameters) }
            state = JSONValue.parse(t.stateJSON) ?? .object([:]); hasSecret = t.hasSecret; createdBy = t.createdBy
            createdAt = t.createdAt; updatedAt = t.updatedAt; self.secret = secret
            webhookPath = t.kind == WebhookTrigger.name ? "/hooks/\(t.id)" : nil
            do { _ = try TriggerDefinition.load(t) } catch { problem = "\(error.field.map { "\($0): " } ?? "")\(error.message)" }
        }
    }
    struct FiringView: Encodable, APIView {
        static let schema = APISchema.object([
            "id": APISchema.string, "at": APISchema.integer, "event": APISchema.anyObject, "rule_result": APISchema.string, "runs": APISchema.array(APISchema.string),
            "outcome": APISchema.enumeration(["fired", "filtered", "skipped", "failed", "missed"]), "detail": APISchema.nullable(APISchema.string),
        ], optional: ["detail"])

        var id: String, at: Int64, event: JSONValue, ruleResult: String, runs: [String], outcome: String, detail: String?
        init(_ f: TriggerFiring) {
            id = f.id; at = f.at; event = JSONValue.parse(f.eventJSON) ?? .object([:]); ruleResult = f.ruleResult; runs = f.runIDs; outcome = f.outcome; detail = f.detail
        }
    }
    struct FireInput: Decodable { var event: JSONValue? }

    static let kinds = TriggerKinds.names
    static let linkSchema = APISchema.object(["pipeline_id": APISchema.string, "parameters": APISchema.map(APISchema.string)], optional: ["parameters"])
    static let inputSchema = APISchema.object([
        "name": APISchema.string, "kind": APISchema.enumeration(kinds), "settings": APISchema.anyObject, "rule": APISchema.nullable(APISchema.string),
        "enabled": APISchema.boolean, "overlap": APISchema.enumeration(OverlapPolicy.allCases.map(\.rawValue)),
        "missed": APISchema.enumeration(MissedPolicy.allCases.map(\.rawValue)), "missed_cap": APISchema.integer, "pipelines": APISchema.array(linkSchema),
    ], optional: ["settings", "rule", "enabled", "overlap", "missed", "missed_cap", "pipelines"])

    /// A trigger that polls a stored connection (watermark, mailbox) may be saved only by someone who may use it
    /// (its firings read through that connection), and its directories must lie inside the workspace.
    /// The kind's declared fields say which settings are paths and which name connections.
    static func requireConnectionUse(_ definition: TriggerDefinition, _ user: User, _ state: ServerState) async throws {
        guard case let .object(fields) = definition.settingsJSON else { return }
        let declared = type(of: definition.settings).fields
        // Directories a trigger watches or fills must lie inside the workspace, checked when it is saved.
        for field in declared.filter({ $0.kind == .path }).map(\.name) {
            guard let path = fields[field]?.stringValue else { continue }
            do { _ = try state.configuration.fileRoots.resolve(path) } catch {
                try await state.store.audit(actor: user.name, action: "access_refused", target: "trigger", detail: "\(error.code): settings.\(field)")
                throw APIError(.unprocessableContent, error.code, error.message, field: "settings.\(field)")
            }
        }
        for field in declared.filter({ $0.kind == .connection }).map(\.name) {
            guard let name = fields[field]?.stringValue, let record = try await state.store.connection(named: name) else { continue }
            guard try await state.store.connectionRole(of: user, on: record.id) != nil else { throw ConnectionForbidden(names: [name], actor: user.name) }
        }
    }

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/triggers", "listTriggers", "Triggers linked to pipelines you can see (all, for admins).", tag: "triggers",
                 response: APISchema.array(APISchema.ref("Trigger"))) { call in
            let user = try call.caller
            var visible: [TriggerView] = []
            for trigger in try await call.state.store.triggers() where try await role(of: user, on: trigger, call.state) != nil {
                visible.append(TriggerView(trigger))
            }
            return try .json(visible)
        },
        Endpoint(.post, "/api/v1/triggers", "createTrigger",
                 "Creates a trigger. A webhook trigger's secret is in the response, once (rotate it to see a new one).", tag: "triggers",
                 request: inputSchema, status: .created, response: APISchema.ref("Trigger")) { call in
            let user = try call.caller
            let definition = try definition(call)
            try await requireLinks(definition.links, .editor, user, call.state)
            try await requireConnectionUse(definition, user, call.state)
            var record = definition.record(createdBy: user.name)
            var secret: String?
            var stored: StoredTriggerSecret?
            if definition.settings is WebhookTrigger {
                (secret, stored) = try await newSecret(for: record.id, definition, call.state)
            }
            record = try await call.state.store.createTrigger(record, secret: stored)
            try await call.state.store.audit(actor: user.name, action: "trigger_create", target: record.name, detail: record.kind, address: call.address)
            return try .json(TriggerView(record, secret: secret), status: .created)
        },
        Endpoint(.get, "/api/v1/triggers/{id}", "getTrigger", "One trigger with its state.", tag: "triggers", response: APISchema.ref("Trigger")) { call in
            try .json(TriggerView(try await require(.viewer, call)))
        },
        Endpoint(.put, "/api/v1/triggers/{id}", "updateTrigger",
                 "Replaces a trigger's definition; changing its kind or settings resets its state. 409 for triggers declared in a pipeline document.",
                 tag: "triggers", request: inputSchema, response: APISchema.ref("Trigger")) { call in
            let user = try call.caller
            let current = try await require(.editor, call)
            try refuseDeclared(current)
            let definition = try definition(call)
            try await requireLinks(definition.links, .editor, user, call.state)
            try await requireConnectionUse(definition, user, call.state)
            guard definition.kind == current.kind || !(definition.settings is WebhookTrigger) || current.hasSecret else {
                throw APIError(.conflict, "kind_change", "a trigger cannot become a webhook; create a new webhook trigger to get its secret")
            }
            var record = definition.record(id: current.id, createdBy: current.createdBy)
            let sameSource = current.kind == record.kind && JSONValue.parse(current.settingsJSON) == definition.settingsJSON
            guard let saved = try await call.state.store.updateTrigger(record, resetStateJSON: sameSource ? nil : "{}") else { throw APIError.notFound("trigger") }
            record = saved
            try await call.state.store.audit(actor: user.name, action: "trigger_update", target: record.name, address: call.address)
            return try .json(TriggerView(record))
        },
        Endpoint(.delete, "/api/v1/triggers/{id}", "deleteTrigger", "Deletes a trigger and its history (not the runs it started).", tag: "triggers",
                 status: .noContent, response: nil) { call in
            let user = try call.caller
            let trigger = try await require(.editor, call)
            try refuseDeclared(trigger)
            try await call.state.store.deleteTrigger(id: trigger.id)
            try await call.state.store.audit(actor: user.name, action: "trigger_delete", target: trigger.name, address: call.address)
            return .noContent
        },
        enableEndpoint(true),
        enableEndpoint(false),
        Endpoint(.post, "/api/v1/triggers/{id}/fire", "fireTrigger",
                 "Fires the trigger now with a manual event (optional `event` fields are added to it); the rule is not applied. Runner role.",
                 tag: "triggers", request: APISchema.object(["event": APISchema.anyObject], optional: ["event"]), status: .created, response: FiringView.schema) { call in
            let user = try call.caller
            let trigger = try await require(.runner, call)
            var fields: [String: JSONValue] = ["manual": .bool(true), "fired_by": .string(user.name), "fired_at": .string(TriggerEvent.isoTime(call.state.store.now()))]
            if let body = call.body, body.readableBytes > 0, let extra = try call.decode(FireInput.self).event {
                guard case let .object(object) = extra else { throw APIError.invalid("event must be an object", field: "event") }
                fields.merge(object) { _, given in given }
            }
            guard let firing = try await call.state.dispatcher.fire(trigger, rule: nil, event: TriggerEvent(fields), expectedVersion: nil, newState: nil) else {
                throw APIError(.conflict, "conflict", "the trigger changed while firing; try again")
            }
            try await call.state.store.audit(actor: user.name, action: "trigger_fire", target: trigger.name, detail: firing.runIDs.joined(separator: ","), address: call.address)
            return try .json(FiringView(firing), status: .created)
        },
        Endpoint(.get, "/api/v1/triggers/{id}/history", "triggerHistory", "The trigger's firings, newest first: event, rule result, runs created.",
                 tag: "triggers", query: [QueryParameter(name: "limit", schema: APISchema.integer, description: "at most this many (1–500, default 50)"),
                                          QueryParameter(name: "before", schema: APISchema.integer, description: "only firings before this time (Unix ms), for paging")],
                 response: APISchema.array(FiringView.schema)) { call in
            let trigger = try await require(.viewer, call)
            let limit = try call.queryInt("limit", default: 50, range: 1...500)
            let before = try call.query("before").map { text -> Int64 in
                guard let value = Int64(text) else { throw APIError.invalid("before must be a time in Unix milliseconds", field: "before") }
                return value
            }
            return try .json(try await call.state.store.firings(triggerID: trigger.id, limit: limit, before: before).map(FiringView.init))
        },
        Endpoint(.post, "/api/v1/triggers/{id}/secret", "rotateTriggerSecret", "Gives a webhook trigger a new secret (shown once); the old one stops working.",
                 tag: "triggers", response: APISchema.object(["secret": APISchema.string])) { call in
            let user = try call.caller
            let trigger = try await require(.editor, call)
            let definition = try TriggerDefinition.load(trigger)
            guard definition.settings is WebhookTrigger else { throw APIError(.conflict, "not_a_webhook", "only webhook triggers have a secret") }
            let (secret, stored) = try await newSecret(for: trigger.id, definition, call.state)
            try await call.state.store.setTriggerSecret(id: trigger.id, stored)
            try await call.state.store.audit(actor: user.name, action: "trigger_secret_rotate", target: trigger.name, address: call.address)
            return try .json(["secret": secret])
        },
    ]

    static func enableEndpoint(_ enabled: Bool) -> Endpoint {
        let verb = enabled ? "enable" : "disable"
        return Endpoint(.post, "/api/v1/triggers/{id}/\(verb)", "\(verb)Trigger", "\(verb.capitalized)s the trigger. Editor role.", tag: "triggers",
                        response: APISchema.ref("Trigger")) { call in
            let user = try call.caller
            let trigger = try await require(.editor, call)
            guard let saved = try await call.state.store.setTriggerEnabled(id: trigger.id, enabled: enabled) else { throw APIError.notFound("trigger") }
            try await call.state.store.audit(actor: user.name, action: "trigger_\(verb)", target: trigger.name, address: call.address)
            return try .json(TriggerView(saved))
        }
    }

    // MARK: - Helpers

    static func definition(_ call: APICall) throws -> TriggerDefinition {
        guard let body = call.body, body.readableBytes > 0, let json = JSONValue.parse(String(buffer: body)) else {
            throw APIError.invalid("this request needs a JSON object body")
        }
        do { return try TriggerDefinition.parse(json, readsLinks: true) } catch {
            throw APIError(.unprocessableContent, error.code, error.message, field: error.field)
        }
    }

    /// The caller's effective role on a trigger: admin → owner; otherwise the lowest role over its linked pipelines
    /// (a trigger without links belongs to its creator). Nil when the trigger is not visible to them.
    static func role(of user: User, on trigger: TriggerRecord, _ state: ServerState) async throws -> ShareRole? {
        if user.role == .admin { return .owner }
        if trigger.links.isEmpty { return trigger.createdBy == user.name ? .owner : nil }
        var lowest: ShareRole = .owner
        var any = false
        for link in trigger.links {
            if let role = try await state.store.role(of: user, on: link.pipelineID) { lowest = min(lowest, role); any = true } else { lowest = .viewer }
        }
        return any ? lowest : nil
    }

    static func require(_ needed: ShareRole, _ call: APICall) async throws -> TriggerRecord {
        let user = try call.caller
        guard let trigger = try await call.state.store.trigger(id: call.parameter("id")),
              let role = try await role(of: user, on: trigger, call.state) else { throw APIError.notFound("trigger '\(call.parameter("id"))'") }
        guard role >= needed else { throw APIError.forbidden("this needs the \(needed.rawValue) role on every pipeline the trigger starts; you are \(role.rawValue)") }
        return trigger
    }

    static func requireLinks(_ links: [TriggerLink], _ needed: ShareRole, _ user: User, _ state: ServerState) async throws {
        for (index, link) in links.enumerated() {
            guard try await state.store.pipeline(id: link.pipelineID) != nil, let role = try await state.store.role(of: user, on: link.pipelineID) else {
                throw APIError(.unprocessableContent, "unknown_pipeline", "pipeline '\(link.pipelineID)' does not exist or is not shared with you",
                               field: "pipelines[\(index)].pipeline_id")
            }
            guard role >= needed else {
                throw APIError.forbidden("linking a trigger to pipeline '\(link.pipelineID)' needs the \(needed.rawValue) role there; you are \(role.rawValue)")
            }
        }
    }

    static func refuseDeclared(_ trigger: TriggerRecord) throws {
        if let pipeline = trigger.declaredIn {
            throw APIError(.conflict, "declared_in_document", "this trigger is declared in pipeline \(pipeline)'s document; change it by saving the document")
        }
    }

    /// A new webhook secret: its hash checks bearer tokens; for HMAC it is also sealed by the vault (which must be unlocked).
    static func newSecret(for triggerID: String, _ definition: TriggerDefinition, _ state: ServerState) async throws -> (String, StoredTriggerSecret) {
        let secret = OpaqueToken.make(prefix: "slw_")
        var stored = StoredTriggerSecret(hash: OpaqueToken.digest(secret), sealed: nil, keyVersion: nil)
        if let settings = definition.settings as? WebhookTrigger, settings.hmac {
            let sealed = try await state.vault.seal(["secret": secret], connectionID: "trigger:\(triggerID)")
            stored.sealed = sealed.sealed
            stored.keyVersion = sealed.keyVersion
        }
        return (secret, stored)
    }
}
