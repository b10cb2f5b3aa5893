import Foundation
import NodeKit
import Runtime

/// `sluice run FILE --break NODE[:CONDITION]`: the debug run's controller at the terminal. Each pause prints where
/// the run stopped and the batch there as a table (the matching row marked ▶), then asks: step, continue or quit.
/// The answers are read from standard input, so a script can pipe them in; the end of input quits.
struct TerminalDebugger {
    let pauses: AsyncStream<DebugPause?>
    let debugger: RunDebugger
    /// Cancels the run (quit).
    let stopRun: @Sendable () -> Void

    func drive() async {
        for await pause in pauses {
            guard let pause else { continue }
            print(Self.describe(pause))
            let command = await Self.ask()
            // Said before the command is given: once stopped, the run ends at once.
            if command == .stop { print("stopping: the run is cancelled and its sinks roll back") }
            debugger.command(command)
            if command == .stop {
                stopRun()
                return
            }
        }
    }

    static func describe(_ pause: DebugPause) -> String {
        let place = switch pause.point {
        case let .node(id): "before \(id) takes its next batch"
        case let .edge(from, to): "on the edge \(from) → \(to)"
        }
        var lines = ["", "⏸  paused \(place) (\(pause.reason == "step" ? "step" : "breakpoint \(pause.reason)")): a batch of \(pause.batchRows) row\(pause.batchRows == 1 ? "" : "s")"
            + (pause.matchingRow.map { ", row \($0 + 1) matches" } ?? "")]
        if let row = pause.matchingRow, row - pause.firstRow < pause.rows.count {
            let origin = pause.origins.indices.contains(row - pause.firstRow) ? pause.origins[row - pause.firstRow].map { " (\($0))" } ?? "" : ""
            lines.append("matching row\(origin): " + zip(pause.schema.names, pause.rows[row - pause.firstRow]).map { "\($0)=\($1.isNull ? "NULL" : $1.description)" }.joined(separator: ", "))
        }
        let traced = pause.origins.contains { $0 != nil }
        let header = ["\n#"] + (traced ? ["from\n"] : []) + pause.schema.fields.map { "\($0.name)\n\($0.type)" }
        let rows = pause.rows.enumerated().map { index, values in
            let number = pause.firstRow + index
            let origin = traced ? [(index < pause.origins.count ? pause.origins[index] : nil) ?? ""] : []
            return ["\(number == pause.matchingRow ? "▶" : " ")\(number + 1)"] + origin + values.map { $0.isNull ? "NULL" : $0.description }
        }
        lines.append(Table.render(header: header, rows: rows))
        if pause.rows.count < pause.batchRows { lines.append("(rows \(pause.firstRow + 1)–\(pause.firstRow + pause.rows.count) of \(pause.batchRows) shown)") }
        return lines.joined(separator: "\n")
    }

    /// Asks until the answer is one of the commands; the end of input quits.
    static func ask() async -> DebugCommand {
        while true {
            print("[s]tep, [c]ontinue, [q]uit? ", terminator: "")
            fflush(nil)
            guard let line = await readLine() else { print(""); return .stop }
            if isatty(STDIN_FILENO) == 0 { print(line) } // piped answers show in the transcript as typed ones do
            switch line.trimmingCharacters(in: .whitespaces).lowercased() {
            case "s", "step": return .step
            case "c", "continue": return .continue
            case "q", "quit", "stop": return .stop
            default: print("answer s, c or q")
            }
        }
    }

    /// One line of standard input, read on a thread of its own so the run's tasks keep going.
    private static func readLine() async -> String? {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Swift.readLine(strippingNewline: true)) }.start()
        }
    }
}
