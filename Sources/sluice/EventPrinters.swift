import Columnar
import Foundation
import NodeKit
import Runtime
import Synchronization

/// Prints one JSON object per run event (`sluice run --json`).
final class JSONEventPrinter: RunEventSink {
    private let lock = Mutex(())

    func send(_ event: RunEvent) {
        let line = JSONText.object(Self.fields(event))
        lock.withLock { _ in
            print(line)
            fflush(nil)
        }
    }

    static func counts(_ c: NodeCounts) -> [(String, Value)] {
        [("records_in", .int(Int64(c.recordsIn))), ("records_out", .int(Int64(c.recordsOut))), ("rejected", .int(Int64(c.rejected))), ("bytes", .int(Int64(c.bytes)))]
    }

    static func seconds(_ d: Duration) -> Value { .float(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }

    static func fields(_ event: RunEvent) -> [(String, Value)] {
        switch event {
        case let .runStarted(runID, traceID, pipeline, nodes):
            return [("event", .string("run_started")), ("run_id", .string(runID)), ("trace_id", .string(traceID)), ("pipeline", .string(pipeline)),
                    ("nodes", .json("[" + nodes.map(JSONText.quoted).joined(separator: ",") + "]"))]
        case let .nodeStarted(node, attempt):
            return [("event", .string("node_started")), ("node", .string(node)), ("attempt", .int(Int64(attempt)))]
        case let .nodeProgress(node, c):
            return [("event", .string("node_progress")), ("node", .string(node))] + counts(c)
        case let .nodeRetrying(node, attempt, after, error):
            return [("event", .string("node_retrying")), ("node", .string(node)), ("attempt", .int(Int64(attempt))), ("after_seconds", seconds(after)), ("error", .string(error))]
        case let .nodeFinished(node, outcome, c, duration, error):
            return [("event", .string("node_finished")), ("node", .string(node)), ("outcome", .string(outcome.rawValue))] + counts(c)
                + [("seconds", seconds(duration)), ("error", error.map(Value.string) ?? .null)]
        case let .nodeCommitted(node):
            return [("event", .string("node_committed")), ("node", .string(node))]
        case let .log(node, level, message):
            return [("event", .string("log")), ("node", node.map(Value.string) ?? .null), ("level", .string(level.rawValue)), ("message", .string(message))]
        case let .step(node, step):
            return [("event", .string("step")), ("node", .string(node)), ("step", .string(step.name)), ("kind", .string(step.kind)), ("status", .string(step.status.rawValue)),
                    ("rows", step.rows.map { Value.int(Int64($0)) } ?? .null), ("millis", step.durationMillis.map(Value.int) ?? .null),
                    ("message", step.message.map(Value.string) ?? .null), ("sql", step.sql.map(Value.string) ?? .null)]
        case let .runFinished(s):
            let nodes = "[" + s.nodes.map { JSONText.object([("node", .string($0.node)), ("outcome", .string($0.outcome.rawValue))] + counts($0.counts)) }.joined(separator: ",") + "]"
            return [("event", .string("run_finished")), ("run_id", .string(s.runID)), ("status", .string(s.status.rawValue)), ("error", s.error.map(Value.string) ?? .null),
                    ("rejected", .int(Int64(s.rejected))), ("rejects_file", s.rejectLocation.map(Value.string) ?? .null), ("seconds", seconds(s.duration)), ("nodes", .json(nodes))]
        }
    }
}

/// Human-readable run output: plain lines when not on a terminal, a live per-node table when on one.
final class HumanEventPrinter: RunEventSink {
    private struct NodeLine {
        var status = "waiting"
        var counts = NodeCounts()
        var started: ContinuousClock.Instant?
        var seconds: Double = 0
    }

    private struct State {
        var order: [String] = []
        var lines: [String: NodeLine] = [:]
        var drawn = 0
        var lastDraw: ContinuousClock.Instant?
        var finished = false
        var printedSteps: [String: NodeStep.Status] = [:]
    }

    private let live: Bool
    private let state = Mutex(State())

    init(live: Bool) { self.live = live }

    func send(_ event: RunEvent) {
        state.withLock { s in
            switch event {
            case let .runStarted(runID, _, pipeline, nodes):
                s.order = nodes
                for n in nodes { s.lines[n] = NodeLine() }
                emit(&s, "▶ \(pipeline) (run \(runID.prefix(8)))")
            case let .nodeStarted(node, attempt):
                s.lines[node]?.status = "running"
                s.lines[node]?.started = .now
                if !live { emit(&s, "  \(node): started\(attempt > 1 ? " (attempt \(attempt))" : "")") }
            case let .nodeProgress(node, counts):
                s.lines[node]?.counts = counts
            case let .nodeRetrying(node, attempt, after, error):
                emit(&s, "  \(node): retrying (attempt \(attempt)) in \(after): \(error)")
            case let .nodeFinished(node, outcome, counts, duration, error):
                s.lines[node]?.status = outcome.rawValue
                s.lines[node]?.counts = counts
                s.lines[node]?.seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
                if !live || error != nil {
                    emit(&s, "  \(node): \(outcome.rawValue) — \(Self.describe(counts)) in \(String(format: "%.2f", s.lines[node]!.seconds))s\(error.map { "\n    error: \($0)" } ?? "")")
                }
            case let .nodeCommitted(node):
                if !live { emit(&s, "  \(node): committed") }
            case let .log(node, level, message):
                emit(&s, "  [\(level.rawValue)] \(node.map { "\($0): " } ?? "")\(message)")
            case let .step(node, step):
                // A step reported again with the same outcome (dbt: live, then from run_results.json) prints once.
                let key = node + "\u{0}" + step.name
                if step.status != .running, s.printedSteps[key] != step.status {
                    s.printedSteps[key] = step.status
                    emit(&s, Self.describe(step, of: node))
                }
            case let .runFinished(summary):
                if live { redraw(&s, force: true) }
                s.drawn = 0
                s.finished = true
                var text = summary.status == .succeeded ? "✔ succeeded" : summary.status == .failed ? "✘ failed" : "■ cancelled"
                text += " in \(String(format: "%.2f", Double(summary.duration.components.seconds) + Double(summary.duration.components.attoseconds) / 1e18))s"
                let read = summary.nodes.filter { $0.counts.recordsIn == 0 }.reduce(0) { $0 + $1.counts.recordsOut + $1.counts.rejected }
                text += " — \(Self.number(read)) records read, \(Self.number(summary.rejected)) rejected"
                if let location = summary.rejectLocation { text += " (kept in \(location))" }
                if let error = summary.error { text += "\n  \(error)" }
                print(text)
            }
            if live, !s.finished { redraw(&s, force: false) }
        }
        fflush(nil)
    }

    /// "  models › stg_orders (view): succeeded, 120 rows in 0.04s".
    static func describe(_ step: NodeStep, of node: String) -> String {
        let mark = switch step.status {
        case .succeeded: "✔"
        case .warned: "!"
        case .failed: "✘"
        case .skipped: "–"
        case .running: "…"
        }
        var line = "  \(node) › \(mark) \(step.name) (\(step.kind)): \(step.status.rawValue)"
        if let rows = step.rows { line += ", \(number(rows)) rows" }
        if let millis = step.durationMillis { line += " in \(String(format: "%.2f", Double(millis) / 1000))s" }
        if let message = step.message { line += "\n      \(message)" }
        return line
    }

    private func emit(_ s: inout State, _ line: String) {
        if live { clear(&s) }
        print(line)
    }

    private func clear(_ s: inout State) {
        guard s.drawn > 0 else { return }
        print("\u{1B}[\(s.drawn)A\u{1B}[J", terminator: "")
        s.drawn = 0
    }

    private func redraw(_ s: inout State, force: Bool) {
        let now = ContinuousClock.now
        if !force, let last = s.lastDraw, now - last < .milliseconds(100), s.drawn > 0 { return }
        clear(&s)
        let width = max(6, s.order.map(\.count).max() ?? 6)
        for node in s.order {
            guard let line = s.lines[node] else { continue }
            let elapsed = line.started.map { Double((now - $0).components.seconds) + Double((now - $0).components.attoseconds) / 1e18 } ?? 0
            let seconds = line.status == "running" ? elapsed : line.seconds
            let records = max(line.counts.recordsOut, line.counts.recordsIn)
            let rate = seconds > 0 ? Double(records) / seconds : 0
            let icon = ["running": "◐", "succeeded": "✔", "failed": "✘", "cancelled": "■", "skipped": "–"][line.status] ?? "·"
            print("  \(icon) \(node.padding(toLength: width, withPad: " ", startingAt: 0))  \(line.status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(Self.describe(line.counts))  \(Self.number(Int(rate)))/s")
        }
        s.drawn = s.order.count
        s.lastDraw = now
    }

    static func describe(_ c: NodeCounts) -> String {
        var parts = ["in \(number(c.recordsIn))", "out \(number(c.recordsOut))"]
        if c.rejected > 0 { parts.append("rejected \(number(c.rejected))") }
        if c.bytes > 0 { parts.append(bytes(c.bytes)) }
        return parts.joined(separator: ", ")
    }

    static func number(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n), unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
