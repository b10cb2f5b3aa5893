import Foundation
import Store

/// A time trigger whose fire times are known in advance (`cron`, clock-aligned `interval`).
protocol ScheduledTrigger: Sendable {
    /// The first fire time strictly after `millis`; nil when there is none.
    func next(after millis: Int64) -> Int64?
}

/// Fire times of `cron` and clock-aligned `interval` triggers, and what the missed-schedule policy keeps.
///
/// A fire time is **on time** when it passed less than `graceMillis` ago (the scheduler checks every second);
/// older ones were missed (no scheduler ran then) and follow the trigger's `missed` policy:
/// `none` drops them, `latest` fires only the newest, `all` fires the newest `missed_cap` of them.
enum TimeTriggers {
    /// The fields of every time trigger's events.
    static let sampleEvent = TriggerEvent(["scheduled_at": .string(""), "fired_at": .string(""), "missed": .bool(false), "missed_count": .int(0)])
    static let graceMillis: Int64 = 60_000
    /// At most this many past fire times are looked at; older ones count as dropped.
    static let scanLimit = 10_000

    struct Due: Equatable {
        /// Scheduled times to fire now, oldest first, each marked missed or on time.
        var fire: [(at: Int64, missed: Bool)]
        /// Missed times not fired (policy `none`, or beyond `missed_cap`).
        var dropped: Int
        /// The newest scheduled time handled: the trigger's new `last`.
        var last: Int64

        static func == (a: Due, b: Due) -> Bool { a.fire.map(\.at) == b.fire.map(\.at) && a.fire.map(\.missed) == b.fire.map(\.missed) && a.dropped == b.dropped && a.last == b.last }
    }

    /// What is due at `now` for a trigger whose last handled fire time is `last`.
    static func due(_ settings: any ScheduledTrigger, last: Int64, now: Int64, missed policy: MissedPolicy, cap: Int) -> Due {
        var times: [Int64] = []
        var cursor = last, overflow = 0
        while let next = settings.next(after: cursor), next <= now {
            if times.count == scanLimit { times.removeFirst(); overflow += 1 }
            times.append(next)
            cursor = next
        }
        guard let newest = times.last else { return Due(fire: [], dropped: 0, last: last) }
        let onTime = times.filter { now - $0 < graceMillis }
        let missed = times.filter { now - $0 >= graceMillis }
        var fire: [(Int64, Bool)] = []
        var dropped = overflow
        switch policy {
        case .none:
            dropped += missed.count
        case .latest:
            if let latest = missed.last, onTime.isEmpty { fire.append((latest, true)); dropped += missed.count - 1 } else { dropped += missed.count }
        case .all:
            let kept = missed.suffix(cap)
            dropped += missed.count - kept.count
            fire += kept.map { ($0, true) }
        }
        fire += onTime.map { ($0, false) }
        return Due(fire: fire, dropped: dropped, last: newest)
    }

    static func iso(_ millis: Int64) -> String { TriggerEvent.isoTime(millis) }
}

extension TriggerScheduler {
    /// `cron` and clock-aligned `interval`: fires the scheduled times due since `last`, after the missed policy.
    func checkSchedule(_ trigger: TriggerRecord, _ definition: TriggerDefinition, _ schedule: any ScheduledTrigger, state: JSONValue, now: Int64) async throws -> [TriggerFiring] {
        guard let last = state["last"]?.intValue else {
            // A new trigger starts counting now: it does not fire for times before it existed.
            _ = try await store.saveTriggerState(id: trigger.id, expectedVersion: trigger.stateVersion, stateJSON: JSONValue.object(["last": .int(now)]).text)
            return []
        }
        let due = TimeTriggers.due(schedule, last: last, now: now, missed: definition.missed, cap: definition.missedCap)
        guard due.last != last else {
            // Nothing due: remember when something will be, so later ticks skip this trigger cheaply.
            if let next = schedule.next(after: last) { nextFire.withLock { $0[trigger.id] = (trigger.stateVersion, next) } }
            return []
        }
        var version = trigger.stateVersion
        var firings: [TriggerFiring] = []
        let missedCount = due.fire.filter(\.missed).count + due.dropped
        if due.dropped > 0 {
            let newState: JSONValue = .object(["last": .int(due.fire.first.map { $0.at - 1 } ?? due.last)])
            let event = TriggerEvent(["dropped": .int(Int64(due.dropped)), "until": .string(TimeTriggers.iso(due.last))])
            guard let note = try await dispatcher.note(trigger, outcome: "missed", detail: "\(due.dropped) fire time(s) passed while no scheduler ran and were not fired (missed: \(definition.missed.rawValue))",
                                                       event: event, expectedVersion: version, newState: newState) else { return [] }
            firings.append(note)
            version += 1
        }
        for (index, time) in due.fire.enumerated() {
            let newState: JSONValue = .object(["last": .int(index == due.fire.count - 1 ? due.last : time.at)])
            let event = TriggerEvent(["scheduled_at": .string(TimeTriggers.iso(time.at)), "fired_at": .string(TimeTriggers.iso(now)),
                                      "missed": .bool(time.missed), "missed_count": .int(Int64(time.missed ? missedCount : 0))])
            guard let firing = try await dispatcher.fire(trigger, rule: definition.rule, event: event, expectedVersion: version, newState: newState) else { return firings }
            if !time.missed { dispatcher.onScheduleLag?(trigger.kind, .milliseconds(max(0, now - time.at))) }
            firings.append(firing)
            version += 1
        }
        return firings
    }

    /// `interval` with `align: last_run`: fires N after the end of the last run this trigger queued (or after its
    /// last firing when it queued none), never while that run is still queued or running.
    func checkFromLastRun(_ trigger: TriggerRecord, _ definition: TriggerDefinition, everyMillis: Int64, state: JSONValue, now: Int64) async throws -> [TriggerFiring] {
        guard let last = state["last"]?.intValue else {
            _ = try await store.saveTriggerState(id: trigger.id, expectedVersion: trigger.stateVersion, stateJSON: JSONValue.object(["last": .int(now)]).text)
            return []
        }
        var base = last
        if let latest = try await store.runs(RunFilter(triggerID: trigger.id, limit: 1)).first, latest.queuedAt >= last {
            guard latest.phase.isFinal else { return [] }
            base = max(base, latest.finishedAt ?? last)
        }
        guard now >= base + everyMillis else { return [] }
        let event = TriggerEvent(["scheduled_at": .string(TimeTriggers.iso(base + everyMillis)), "fired_at": .string(TimeTriggers.iso(now)),
                                  "missed": .bool(false), "missed_count": .int(0)])
        guard let firing = try await dispatcher.fire(trigger, rule: definition.rule, event: event, expectedVersion: trigger.stateVersion,
                                                     newState: .object(["last": .int(now)])) else { return [] }
        return [firing]
    }
}
