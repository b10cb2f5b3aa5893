import Foundation
import NodeKit

/// What dbt says, as steps: its JSON log events while it runs (a node started, a model or test finished) and
/// `run_results.json` once it ended (status, time, rows, failures, the compiled SQL of a failure).
enum DBTResults {
    /// A step from one JSON log line, or a log line worth showing; nil for the rest.
    enum Event: Equatable {
        case step(NodeStep)
        case log(LogLevel, String)
    }

    static func event(_ line: String) -> Event? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let info = object["info"] as? [String: Any], let name = info["name"] as? String else { return nil }
        let data = object["data"] as? [String: Any] ?? [:]
        let node = data["node_info"] as? [String: Any] ?? [:]
        let stepName = node["node_name"] as? String ?? ""
        let kind = node["materialized"] as? String ?? (node["resource_type"] as? String ?? "")
        switch name {
        case "LogStartLine" where !stepName.isEmpty:
            return .step(NodeStep(name: stepName, kind: kind, status: .running))
        case "LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult" where !stepName.isEmpty:
            let millis = (data["execution_time"] as? Double).map { Int64($0 * 1000) }
            return .step(NodeStep(name: stepName, kind: kind, status: status(node["node_status"] as? String ?? data["status"] as? String ?? ""), durationMillis: millis))
        case "SkippingDetails" where !stepName.isEmpty:
            return .step(NodeStep(name: stepName, kind: kind, status: .skipped, message: "skipped: an upstream node failed"))
        default:
            let level = info["level"] as? String ?? "info"
            guard level == "warn" || level == "error", let message = info["msg"] as? String, !message.isEmpty else { return nil }
            return .log(level == "error" ? .error : .warning, stripColors(message))
        }
    }

    /// The final step of every node in `run_results.json`.
    static func steps(runResults path: String, kinds: [String: String]) -> [NodeStep] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let results = object["results"] as? [[String: Any]] else { return [] }
        return results.compactMap { result in
            guard let id = result["unique_id"] as? String else { return nil }
            let name = displayName(id)
            let state = status(result["status"] as? String ?? "")
            let response = result["adapter_response"] as? [String: Any] ?? [:]
            var rows = (response["rows_affected"] as? Int).flatMap { $0 >= 0 ? $0 : nil }
            if id.hasPrefix("test.") { rows = result["failures"] as? Int }
            let message = result["message"] as? String
            return NodeStep(name: name, kind: kinds[name] ?? (id.hasPrefix("test.") ? "test" : String(id.prefix { $0 != "." })), status: state, rows: rows,
                            durationMillis: (result["execution_time"] as? Double).map { Int64($0 * 1000) },
                            message: state == .succeeded ? nil : message,
                            sql: state == .failed ? result["compiled_code"] as? String : nil)
        }
    }

    /// `model.shop.stg_orders` → `stg_orders`; `test.shop.not_null_stg_orders_id.8cf5` → `not_null_stg_orders_id`.
    static func displayName(_ uniqueID: String) -> String {
        let parts = uniqueID.split(separator: ".")
        guard parts.count >= 3 else { return uniqueID }
        return String(parts[2])
    }

    static func status(_ text: String) -> NodeStep.Status {
        switch text {
        case "success", "pass": .succeeded
        case "warn": .warned
        case "skipped", "no-op": .skipped
        default: .failed
        }
    }

    static func stripColors(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
    }
}
