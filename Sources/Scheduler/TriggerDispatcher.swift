import Foundation
import NodeKit
public import Store

/// Turns one trigger event into runs: checks the rule, applies the overlap policy, maps event fields to run
/// parameters, and records the firing, its runs and the trigger's new state in one store transaction.
public struct TriggerDispatcher: Sendable {
    /// Records firings with the runs they queue and cancel (and announces those runs).
    public let queue: RunQueue
    public var store: MetadataStore { queue.store }
    /// Told of each recorded firing's trigger kind and outcome (the server's metrics).
    public var onFiring: (@Sendable (_ kind: String, _ outcome: String) -> Void)?
    /// Told how late each on-time scheduled firing was (its fire time to now), for the scheduler lag metric.
    public var onScheduleLag: (@Sendable (_ kind: String, _ lag: Duration) -> Void)?

    public init(queue: RunQueue) { self.queue = queue }

    /// A dispatcher whose runs are announced on `bus` (in this process only, by default).
    public init(store: MetadataStore, bus: any EventBus = LocalEventBus()) { queue = RunQueue(store: store, bus: bus) }

    /// Fires `event`. With `expectedVersion`, nothing is recorded (nil) if the trigger's state changed since it
    /// was read: another scheduler handled the event. `newState` is saved with the firing.
    @discardableResult
    public func fire(_ trigger: TriggerRecord, rule: TriggerRule?, event: TriggerEvent, expectedVersion: Int64?, newState: JSONValue?) async throws -> TriggerFiring? {
        var firing = TriggerFiring(triggerID: trigger.id, at: store.now(), eventJSON: event.json, ruleResult: "none", outcome: "fired")
        var runs: [TriggeredRun] = [], cancelling: [String] = [], notes: [String] = []
        var passes = true, skipped = 0
        if let rule {
            do {
                passes = try rule.evaluate(event)
                firing.ruleResult = passes ? "true" : "false"
            } catch {
                passes = false
                firing.ruleResult = "error: \(error.message)"
                notes.append("the rule could not be evaluated: \(error.message)")
            }
        }
        if passes {
            for link in trigger.links {
                guard let pipeline = try await store.pipeline(id: link.pipelineID) else {
                    notes.append("pipeline \(link.pipelineID) no longer exists")
                    continue
                }
                let parameters: [String: String]
                do { parameters = try ParameterTemplate.render(link.parameters, event: event) } catch {
                    notes.append("\(pipeline.name): \(error.message)")
                    continue
                }
                let active = try await store.activeRuns(pipelineID: pipeline.id)
                switch OverlapPolicy(rawValue: trigger.overlap) ?? .skip {
                case .skip where !active.isEmpty:
                    notes.append("\(pipeline.name): skipped, run \(active[0].id) is still \(active[0].phase.rawValue) (overlap: skip)")
                    skipped += 1
                    continue
                case .cancelPrevious where !active.isEmpty:
                    cancelling += active.map(\.id)
                    notes.append("\(pipeline.name): cancelled \(active.count) earlier run(s) (overlap: cancel-previous)")
                default:
                    break
                }
                runs.append(TriggeredRun(pipelineID: pipeline.id, revision: pipeline.currentRevision,
                                         parametersJSON: RunParameters(parameters).jsonText))
            }
        }
        // fired: some run queued (or nothing is linked); skipped: only the overlap policy stopped it; failed: a link or the rule failed.
        if !passes {
            firing.outcome = firing.ruleResult == "false" ? "filtered" : "failed"
        } else if !runs.isEmpty || trigger.links.isEmpty {
            firing.outcome = "fired"
        } else {
            firing.outcome = skipped > 0 ? "skipped" : "failed"
        }
        firing.detail = notes.isEmpty ? nil : notes.joined(separator: "; ")
        let recorded = try await queue.recordFiring(firing, runs: runs, cancelling: cancelling, requestedBy: "trigger:\(trigger.name)",
                                                    expectedVersion: expectedVersion, newStateJSON: newState?.text)
        if let recorded { onFiring?(trigger.kind, recorded.outcome) }
        return recorded
    }

    /// Records a firing that creates no runs (missed fire times dropped by policy), with the new state.
    @discardableResult
    public func note(_ trigger: TriggerRecord, outcome: String, detail: String, event: TriggerEvent, expectedVersion: Int64?, newState: JSONValue?) async throws -> TriggerFiring? {
        let firing = TriggerFiring(triggerID: trigger.id, at: store.now(), eventJSON: event.json, ruleResult: "none", outcome: outcome, detail: detail)
        let recorded = try await queue.recordFiring(firing, runs: [], requestedBy: "trigger:\(trigger.name)", expectedVersion: expectedVersion, newStateJSON: newState?.text)
        if let recorded { onFiring?(trigger.kind, recorded.outcome) }
        return recorded
    }
}
