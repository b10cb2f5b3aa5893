import Foundation
import Logging
import NodeKit
public import Store
import Synchronization

/// The scheduler: checks every enabled trigger (time triggers every tick, polled ones at their `poll_every`)
/// and fires what is due through the dispatcher.
///
/// One scheduler at a time: `run()` ticks only while this process holds the scheduling role
/// (`MetadataStore.whileLeader`). Every firing commits with a check of the trigger's state version, so even
/// two schedulers could not fire the same fire time, watermark or file twice. Tests call `tick()` with an
/// injected store clock instead of sleeping.
public final class TriggerScheduler: Sendable {
    public let store: MetadataStore
    public let dispatcher: TriggerDispatcher
    let probes: TriggerProbes
    let logger: Logger
    /// Trigger id → the store time its next poll is due.
    private let nextPoll = Mutex<[String: Int64]>([:])
    /// Trigger id → the last poll error logged (logged again only when it changes).
    private let lastErrors = Mutex<[String: String]>([:])
    private let leading = Mutex(false)
    /// Parsed definitions by trigger id, reused while the stored definition is the same (ticks run every second).
    private let definitions = Mutex<[String: (source: String, definition: TriggerDefinition)]>([:])
    /// The trigger list as last loaded, with the store's fingerprint then; reloaded when the fingerprint changes,
    /// and at least every `fullReloadMillis` (so 10,000 idle triggers cost one small query per tick).
    private let loaded = Mutex<(fingerprint: String, at: Int64, triggers: [TriggerRecord])?>(nil)
    static let fullReloadMillis: Int64 = 60_000
    /// Time triggers' next fire time, valid while their state version is the one it was computed for.
    let nextFire = Mutex<[String: (stateVersion: Int64, at: Int64)]>([:])

    public init(store: MetadataStore, dispatcher: TriggerDispatcher, probes: TriggerProbes, logger: Logger = Logger(label: "sluice.scheduler")) {
        self.store = store
        self.dispatcher = dispatcher
        self.probes = probes
        self.logger = logger
    }

    /// True while this process holds the scheduling role.
    public var isLeader: Bool { leading.withLock { $0 } }

    /// Ticks once a second while this process holds the scheduling role; stands by (retrying every second)
    /// while another does. Returns when the task is cancelled.
    public func run(announce: @escaping @Sendable (String) -> Void = { _ in }) async {
        var announcedStandby = false
        while !Task.isCancelled {
            let led = (try? await store.whileLeader { stillLeader in
                self.leading.withLock { $0 = true }
                announce("this process runs the scheduler")
                while !Task.isCancelled, await stillLeader() {
                    await self.tick()
                    // Tick just after each whole second of the store clock: cron seconds fire a few ms late, not up to 1 s.
                    let intoSecond = self.store.now() % 1000
                    try? await Task.sleep(for: .milliseconds(1000 - intoSecond + 5))
                }
                self.leading.withLock { $0 = false }
            }) ?? false
            if led {
                announcedStandby = false
            } else if !announcedStandby {
                announce("another process runs the scheduler; this one stands by")
                announcedStandby = true
            }
            if !Task.isCancelled { try? await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Checks every enabled polled trigger once; returns the firings recorded.
    @discardableResult
    public func tick() async -> [TriggerFiring] {
        guard let triggers = await currentTriggers() else { return [] }
        var firings: [TriggerFiring] = []
        for trigger in triggers where trigger.enabled {
            guard let kind = TriggerKinds.named(trigger.kind), kind.isPolled else { continue }
            do {
                firings += try await check(trigger)
                lastErrors.withLock { $0[trigger.id] = nil }
            } catch {
                let message = (error as? TriggerConfigError)?.message ?? (error as? NodeError)?.message ?? "\(error)"
                let isNew = lastErrors.withLock { errors in
                    defer { errors[trigger.id] = message }
                    return errors[trigger.id] != message
                }
                if isNew { logger.warning("trigger '\(trigger.name)' could not check for events: \(message)") }
            }
        }
        return firings
    }

    /// The triggers, from memory while the store's fingerprint is unchanged.
    private func currentTriggers() async -> [TriggerRecord]? {
        let now = store.now()
        guard let fingerprint = try? await store.triggersFingerprint() else { return nil }
        if let cached = loaded.withLock({ $0 }), cached.fingerprint == fingerprint, now - cached.at < Self.fullReloadMillis { return cached.triggers }
        guard let triggers = try? await store.triggers() else { return nil }
        loaded.withLock { $0 = (fingerprint, now, triggers) }
        return triggers
    }

    /// Checks one trigger now (also "fire now" for polled kinds' state); returns its firings.
    func check(_ trigger: TriggerRecord) async throws -> [TriggerFiring] {
        let definition = try definition(of: trigger)
        let now = store.now()
        // A time trigger whose next fire time is known and not yet reached: nothing to parse or compute.
        if let next = nextFire.withLock({ $0[trigger.id] }), next.stateVersion == trigger.stateVersion, now < next.at { return [] }
        let state = JSONValue.parse(trigger.stateJSON) ?? .object([:])
        let kind = definition.settings
        if kind.pollMillis > 0, !pollDue(trigger, every: kind.pollMillis, now: now) { return [] }
        return try await kind.check(trigger, definition, state: state, now: now, in: self)
    }

    private func definition(of trigger: TriggerRecord) throws -> TriggerDefinition {
        let source = [trigger.kind, trigger.settingsJSON, trigger.rule ?? "", trigger.overlap, trigger.missed, String(trigger.missedCap)].joined(separator: "\u{1}")
        if let cached = definitions.withLock({ $0[trigger.id] }), cached.source == source { return cached.definition }
        let definition = try TriggerDefinition.load(trigger)
        definitions.withLock { $0[trigger.id] = (source, definition) }
        nextFire.withLock { $0[trigger.id] = nil }
        return definition
    }

    private func pollDue(_ trigger: TriggerRecord, every: Int64, now: Int64) -> Bool {
        nextPoll.withLock { next in
            if let due = next[trigger.id], due > now { return false }
            next[trigger.id] = now + every
            return true
        }
    }

    /// Fires a poll's events in order, each committing with the state after it.
    func apply(_ result: PollResult, _ trigger: TriggerRecord, _ definition: TriggerDefinition) async throws -> [TriggerFiring] {
        var version = trigger.stateVersion
        var firings: [TriggerFiring] = []
        if let notice = result.notice {
            guard let noted = try await dispatcher.note(trigger, outcome: notice.outcome, detail: notice.detail, event: notice.event,
                                                        expectedVersion: version, newState: notice.state) else { return [] }
            firings.append(noted)
            version += 1
        }
        for (event, state) in result.events {
            guard let firing = try await dispatcher.fire(trigger, rule: definition.rule, event: event, expectedVersion: version, newState: state) else { return firings }
            firings.append(firing)
            version += 1
        }
        if result.events.isEmpty, let quiet = result.quietState {
            _ = try await store.saveTriggerState(id: trigger.id, expectedVersion: version, stateJSON: quiet.text)
        }
        return firings
    }
}
