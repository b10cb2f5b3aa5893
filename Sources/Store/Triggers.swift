import Foundation

/// A trigger as the store holds it: kind, settings (JSON), rule, policies, linked pipelines and the kind's state.
public struct TriggerRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: String
    /// The kind's settings as a JSON object text.
    public var settingsJSON: String
    public var rule: String?
    public var enabled: Bool
    public var overlap: String
    public var missed: String
    public var missedCap: Int64
    /// The pipeline whose document declares this trigger (`triggers:` block); nil for triggers made through the API.
    public var declaredIn: String?
    /// The kind's state as a JSON object text (last fire time, watermark, files seen, …).
    public var stateJSON: String
    /// Incremented by every state change; a firing commits only if the version it read is still current.
    public var stateVersion: Int64
    /// True when a webhook secret is set (its hash, and its sealed value for HMAC checks).
    public var hasSecret: Bool
    public var createdBy: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var links: [TriggerLink] = []

    public init(id: String = MetadataStore.newID(), name: String, kind: String, settingsJSON: String, rule: String? = nil, enabled: Bool = true,
                overlap: String = "skip", missed: String = "latest", missedCap: Int64 = 10, declaredIn: String? = nil, createdBy: String,
                links: [TriggerLink] = []) {
        self.id = id
        self.name = name
        self.kind = kind
        self.settingsJSON = settingsJSON
        self.rule = rule
        self.enabled = enabled
        self.overlap = overlap
        self.missed = missed
        self.missedCap = missedCap
        self.declaredIn = declaredIn
        self.stateJSON = "{}"
        self.stateVersion = 0
        self.hasSecret = false
        self.createdBy = createdBy
        self.createdAt = 0
        self.updatedAt = 0
        self.links = links
    }

    init(row: SQLRow) throws {
        id = try row.required("id")
        name = try row.required("name")
        kind = try row.required("kind")
        settingsJSON = try row.required("settings")
        rule = row.text("rule")
        enabled = row.int("enabled") == 1
        overlap = try row.required("overlap")
        missed = try row.required("missed")
        missedCap = try row.requiredInt("missed_cap")
        declaredIn = row.text("declared_in")
        stateJSON = row.text("state") ?? "{}"
        stateVersion = try row.requiredInt("state_version")
        hasSecret = row.text("secret_hash") != nil
        createdBy = try row.required("created_by")
        createdAt = try row.requiredInt("created_at")
        updatedAt = try row.requiredInt("updated_at")
    }
}

/// A pipeline a trigger starts, with run parameters mapped from event fields (`since: ${event.old_watermark}`).
public struct TriggerLink: Sendable, Equatable {
    public var pipelineID: String
    /// Parameter name → template text.
    public var parameters: [String: String]

    public init(pipelineID: String, parameters: [String: String] = [:]) {
        self.pipelineID = pipelineID
        self.parameters = parameters
    }
}

/// One recorded firing: when, the event, what the rule said, the runs it created (or why none).
public struct TriggerFiring: Sendable, Equatable {
    public var id: String
    public var triggerID: String
    public var at: Int64
    /// The event as a JSON object text.
    public var eventJSON: String
    /// `true`, `false`, `none` (no rule) or `error: …`.
    public var ruleResult: String
    public var runIDs: [String]
    /// `fired`, `filtered` (rule false), `skipped` (overlap), `failed`.
    public var outcome: String
    public var detail: String?

    public init(id: String = MetadataStore.newID(), triggerID: String, at: Int64, eventJSON: String, ruleResult: String, runIDs: [String] = [],
                outcome: String, detail: String? = nil) {
        self.id = id
        self.triggerID = triggerID
        self.at = at
        self.eventJSON = eventJSON
        self.ruleResult = ruleResult
        self.runIDs = runIDs
        self.outcome = outcome
        self.detail = detail
    }

    init(row: SQLRow) throws {
        id = try row.required("id")
        triggerID = try row.required("trigger_id")
        at = try row.requiredInt("at")
        eventJSON = try row.required("event")
        ruleResult = try row.required("rule_result")
        runIDs = try row.required("runs").split(separator: ",").map(String.init)
        outcome = try row.required("outcome")
        detail = row.text("detail")
    }
}

/// A run a firing queues: which pipeline revision, with which parameters.
public struct TriggeredRun: Sendable {
    public var pipelineID: String
    public var revision: Int64
    public var parametersJSON: String

    public init(pipelineID: String, revision: Int64, parametersJSON: String) {
        self.pipelineID = pipelineID
        self.revision = revision
        self.parametersJSON = parametersJSON
    }
}

/// A trigger's webhook secret as stored: a hash to check bearer tokens, and the value sealed by the vault for HMAC checks.
public struct StoredTriggerSecret: Sendable {
    public var hash: String
    public var sealed: [UInt8]?
    public var keyVersion: Int64?

    public init(hash: String, sealed: [UInt8]?, keyVersion: Int64?) {
        self.hash = hash
        self.sealed = sealed
        self.keyVersion = keyVersion
    }
}

extension MetadataStore {
    static let triggerColumns = """
        id, name, kind, settings, rule, enabled, overlap, missed, missed_cap, declared_in, state, state_version, secret_hash,
        created_by, created_at, updated_at
        """

    /// Every trigger with its links, by name.
    /// A cheap fingerprint of all triggers and their links: it changes whenever a trigger is created, edited,
    /// enabled, deleted, fires or saves state, or loses a link (the scheduler reloads its list only then).
    public func triggersFingerprint() async throws -> String {
        try await transaction { session in
            let row = try await session.first("""
                SELECT CAST(count(*) AS TEXT) AS n, CAST(coalesce(sum(updated_at), 0) AS TEXT) AS u, CAST(coalesce(sum(state_version), 0) AS TEXT) AS v,
                       CAST((SELECT count(*) FROM trigger_pipelines) AS TEXT) AS l FROM triggers
                """)
            return ["n", "u", "v", "l"].map { row?.string($0) ?? "" }.joined(separator: ":")
        }
    }

    public func triggers() async throws -> [TriggerRecord] {
        try await transaction { session in
            var triggers = try await session.query("SELECT \(Self.triggerColumns) FROM triggers ORDER BY name").map({ try TriggerRecord(row: $0) })
            let links = try await session.query("SELECT trigger_id, pipeline_id, parameters FROM trigger_pipelines ORDER BY pipeline_id")
            let byTrigger = Dictionary(grouping: links, by: { $0.string("trigger_id") })
            for index in triggers.indices {
                triggers[index].links = (byTrigger[triggers[index].id] ?? []).map(Self.link(row:))
            }
            return triggers
        }
    }

    public func trigger(id: String) async throws -> TriggerRecord? {
        try await transaction { session in try await Self.trigger(id: id, in: session) }
    }

    static func trigger(id: String, in session: any StoreSession) async throws -> TriggerRecord? {
        guard var trigger = try await session.first("SELECT \(triggerColumns) FROM triggers WHERE id = $1", .text(id)).map({ try TriggerRecord(row: $0) }) else { return nil }
        trigger.links = try await session.query("SELECT pipeline_id, parameters FROM trigger_pipelines WHERE trigger_id = $1 ORDER BY pipeline_id", .text(id)).map(link(row:))
        return trigger
    }

    static func link(row: SQLRow) -> TriggerLink {
        let parameters = (try? JSONDecoder().decode([String: String].self, from: Data(row.string("parameters").utf8))) ?? [:]
        return TriggerLink(pipelineID: row.string("pipeline_id"), parameters: parameters)
    }

    static func parametersText(_ parameters: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(parameters)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Creates a trigger with its links; a name already taken is a conflict.
    public func createTrigger(_ trigger: TriggerRecord, secret: StoredTriggerSecret? = nil, initialStateJSON: String = "{}") async throws -> TriggerRecord {
        let at = now()
        return try await transaction { session in
            if try await session.first("SELECT id FROM triggers WHERE name = $1", .text(trigger.name)) != nil {
                throw StoreError(.conflict, "a trigger named '\(trigger.name)' already exists")
            }
            try await session.execute("""
                INSERT INTO triggers (id, name, kind, settings, rule, enabled, overlap, missed, missed_cap, declared_in, state, state_version,
                    secret_hash, sealed_secret, key_version, created_by, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15, $16, $16)
                """, .text(trigger.id), .text(trigger.name), .text(trigger.kind), .text(trigger.settingsJSON), .optional(trigger.rule),
                   .int(trigger.enabled ? 1 : 0), .text(trigger.overlap), .text(trigger.missed), .int(trigger.missedCap), .optional(trigger.declaredIn),
                   .text(initialStateJSON), .optional(secret?.hash), secret?.sealed.map(SQLValue.blob) ?? .null, .optional(secret?.keyVersion),
                   .text(trigger.createdBy), .int(at))
            try await Self.replaceLinks(trigger.id, trigger.links, in: session)
            return try await Self.trigger(id: trigger.id, in: session)!
        }
    }

    /// Replaces a trigger's definition and links. A changed kind or settings resets its state to `resetStateJSON`.
    public func updateTrigger(_ trigger: TriggerRecord, resetStateJSON: String?) async throws -> TriggerRecord? {
        let at = now()
        return try await transaction { session in
            if try await session.first("SELECT id FROM triggers WHERE name = $1 AND id <> $2", .text(trigger.name), .text(trigger.id)) != nil {
                throw StoreError(.conflict, "a trigger named '\(trigger.name)' already exists")
            }
            let updated = try await session.query("""
                UPDATE triggers SET name = $2, kind = $3, settings = $4, rule = $5, enabled = $6, overlap = $7, missed = $8, missed_cap = $9,
                    updated_at = $10 WHERE id = $1 RETURNING id
                """, .text(trigger.id), .text(trigger.name), .text(trigger.kind), .text(trigger.settingsJSON), .optional(trigger.rule),
                   .int(trigger.enabled ? 1 : 0), .text(trigger.overlap), .text(trigger.missed), .int(trigger.missedCap), .int(at))
            guard !updated.isEmpty else { return nil }
            if let resetStateJSON {
                try await session.execute("UPDATE triggers SET state = $2, state_version = state_version + 1 WHERE id = $1", .text(trigger.id), .text(resetStateJSON))
            }
            try await Self.replaceLinks(trigger.id, trigger.links, in: session)
            return try await Self.trigger(id: trigger.id, in: session)
        }
    }

    static func replaceLinks(_ triggerID: String, _ links: [TriggerLink], in session: any StoreSession) async throws {
        try await session.execute("DELETE FROM trigger_pipelines WHERE trigger_id = $1", .text(triggerID))
        for link in links {
            try await session.execute("INSERT INTO trigger_pipelines (trigger_id, pipeline_id, parameters) VALUES ($1, $2, $3)",
                                      .text(triggerID), .text(link.pipelineID), .text(parametersText(link.parameters)))
        }
    }

    public func setTriggerEnabled(id: String, enabled: Bool) async throws -> TriggerRecord? {
        let at = now()
        return try await transaction { session in
            guard !(try await session.query("UPDATE triggers SET enabled = $2, updated_at = $3 WHERE id = $1 RETURNING id",
                                             .text(id), .int(enabled ? 1 : 0), .int(at))).isEmpty else { return nil }
            return try await Self.trigger(id: id, in: session)
        }
    }

    @discardableResult
    public func deleteTrigger(id: String) async throws -> Bool {
        try await transaction { session in
            !(try await session.query("DELETE FROM triggers WHERE id = $1 RETURNING id", .text(id))).isEmpty
        }
    }

    /// Replaces a trigger's webhook secret.
    public func setTriggerSecret(id: String, _ secret: StoredTriggerSecret) async throws {
        try await transaction { session in
            try await session.execute("UPDATE triggers SET secret_hash = $2, sealed_secret = $3, key_version = $4 WHERE id = $1",
                                      .text(id), .text(secret.hash), secret.sealed.map(SQLValue.blob) ?? .null, .optional(secret.keyVersion))
        }
    }

    public func triggerSecret(id: String) async throws -> StoredTriggerSecret? {
        try await transaction { session in
            guard let row = try await session.first("SELECT secret_hash, sealed_secret, key_version FROM triggers WHERE id = $1", .text(id)),
                  let hash = row.text("secret_hash") else { return nil }
            return StoredTriggerSecret(hash: hash, sealed: row.blob("sealed_secret"), keyVersion: row.int("key_version"))
        }
    }

    /// Saves a trigger's state if nobody changed it since `expectedVersion` was read; false when someone did.
    public func saveTriggerState(id: String, expectedVersion: Int64, stateJSON: String) async throws -> Bool {
        try await transaction { session in
            !(try await session.query("UPDATE triggers SET state = $2, state_version = state_version + 1 WHERE id = $1 AND state_version = $3 RETURNING id",
                                      .text(id), .text(stateJSON), .int(expectedVersion))).isEmpty
        }
    }

    /// Records a firing inside an open transaction with everything it causes: the runs it queues, the runs it cancels
    /// (overlap `cancel-previous`) and the trigger's new state. With `expectedVersion`, nothing happens (nil) when the
    /// state changed since it was read (another scheduler fired first), so an event is never fired twice.
    func recordFiring(_ firing: TriggerFiring, runs: [TriggeredRun], cancelling: [String], requestedBy: String, expectedVersion: Int64?,
                      newStateJSON: String?, at: Int64, in session: any StoreSession) async throws -> (firing: TriggerFiring, queued: [RunRecord], cancelled: [RunRecord])? {
        if let newStateJSON {
            let sql = "UPDATE triggers SET state = $2, state_version = state_version + 1 WHERE id = $1" + (expectedVersion == nil ? "" : " AND state_version = $3") + " RETURNING id"
            let binds: [SQLValue] = [.text(firing.triggerID), .text(newStateJSON)] + (expectedVersion.map { [SQLValue.int($0)] } ?? [])
            if try await session.query(sql, binds).isEmpty { return nil }
        }
        var cancelled: [RunRecord] = []
        for runID in cancelling {
            if let (run, now) = try await cancelRun(runID, at: at, in: session), now { cancelled.append(run) }
        }
        var recorded = firing, queued: [RunRecord] = []
        for run in runs {
            queued.append(try await Self.insertRun(pipelineID: run.pipelineID, revision: run.revision, parametersJSON: run.parametersJSON,
                                                   requestedBy: requestedBy, triggerID: firing.triggerID, at: at, in: session))
        }
        recorded.runIDs = queued.map(\.id)
        try await session.execute("""
            INSERT INTO trigger_firings (id, trigger_id, at, event, rule_result, runs, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, .text(recorded.id), .text(recorded.triggerID), .int(recorded.at), .text(recorded.eventJSON), .text(recorded.ruleResult),
               .text(recorded.runIDs.joined(separator: ",")), .text(recorded.outcome), .optional(recorded.detail))
        return (recorded, queued, cancelled)
    }

    /// A trigger's firings, newest first.
    public func firings(triggerID: String, limit: Int = 50, before: Int64? = nil) async throws -> [TriggerFiring] {
        try await transaction { session in
            try await session.query("""
                SELECT id, trigger_id, at, event, rule_result, runs, outcome, detail FROM trigger_firings
                WHERE trigger_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT $3
                """, .text(triggerID), .int(before ?? Int64.max), .int(Int64(limit))).map({ try TriggerFiring(row: $0) })
        }
    }

    /// The pipeline's runs that are queued or running (for overlap policies).
    public func activeRuns(pipelineID: String) async throws -> [RunRecord] {
        try await transaction { session in
            try await session.query("SELECT \(Self.runColumns) FROM runs WHERE pipeline_id = $1 AND status IN ('queued', 'running') ORDER BY queued_at",
                                    .text(pipelineID)).map({ try RunRecord(row: $0) })
        }
    }

    /// Remembers a webhook signature; false when it was seen within the replay window (a replayed delivery).
    /// Signatures older than `windowMillis` are forgotten: their timestamps are rejected anyway.
    public func recordWebhookDelivery(triggerID: String, signature: String, windowMillis: Int64) async throws -> Bool {
        let at = now()
        return try await transaction { session in
            try await session.execute("DELETE FROM webhook_deliveries WHERE trigger_id = $1 AND at < $2", .text(triggerID), .int(at - windowMillis))
            return !(try await session.query("""
                INSERT INTO webhook_deliveries (trigger_id, signature, at) VALUES ($1, $2, $3) ON CONFLICT (trigger_id, signature) DO NOTHING RETURNING at
                """, .text(triggerID), .text(signature), .int(at))).isEmpty
        }
    }

    /// Triggers declared by a pipeline's document.
    public func declaredTriggers(pipelineID: String) async throws -> [TriggerRecord] {
        try await transaction { session in
            var declared: [TriggerRecord] = []
            for row in try await session.query("SELECT id FROM triggers WHERE declared_in = $1 ORDER BY name", .text(pipelineID)) {
                if let trigger = try await Self.trigger(id: row.string("id"), in: session) { declared.append(trigger) }
            }
            return declared
        }
    }
}
