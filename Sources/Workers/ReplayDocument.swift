import Columnar
import Foundation
import NodeKit
import Runtime

/// Rewrites a pipeline so that a run feeds an earlier run's rejected records back in ("replay rejects"),
/// typically after the pipeline was fixed.
///
/// - A record rejected by a transform or sink (its row is in the packet) goes back into that node's input:
///   a `jsonl.read` of those rows, typed with the node's input schema, replaces its upstream.
/// - A raw line rejected by a file source (`csv.read`, `jsonl.read`) is read again by the same node with
///   the same settings from a file of those lines (CSV keeps the original header line).
/// - A row rejected by any other source (e.g. a NULL cursor) is emitted again as that source's output.
///
/// Only the replayed nodes and what is downstream of them run. So that a replay adds to the destination
/// and never wipes it, table sinks in `replace`/`create` mode append, and file sinks write a sibling file
/// (`out.replay-<run>.csv`). The files go to `directory`.
struct ReplayDocument {
    let document: PipelineDocument
    /// What changed, for the run log.
    let notes: [String]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func make(original: PipelineDocument, plan: ExecutionPlan, rejects: [(node: String, json: String)], directory: String, runID: String) throws -> ReplayDocument {
        var byNode: [String: [[String: Any]]] = [:]
        for packet in rejects {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(packet.json.utf8))) as? [String: Any] else { continue }
            byNode[packet.node, default: []].append(object)
        }
        guard !byNode.isEmpty else { throw Failure(description: "the run has no rejected records to replay") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        var nodes = original.nodes
        var edges = original.edges
        var notes: [String] = []
        var replayed: Set<String> = []
        for (nodeID, packets) in byNode.sorted(by: { $0.key < $1.key }) {
            guard let planned = plan.node(nodeID), let index = nodes.firstIndex(where: { $0.id == nodeID }) else {
                throw Failure(description: "node '\(nodeID)' rejected records but is no longer in the pipeline")
            }
            let rows = packets.compactMap { $0["record"] as? [String: Any] }
            let lines = packets.compactMap { $0["raw"] as? String }
            if planned.isSource {
                if !lines.isEmpty, ["csv.read", "jsonl.read"].contains(planned.spec.id) {
                    var text = lines.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
                    if planned.spec.id == "csv.read", header(of: nodes[index].settings), let source = packets.compactMap({ $0["source"] as? String }).first {
                        text = try firstLine(of: source) + "\n" + text
                    }
                    let path = directory + "/\(nodeID).\(planned.spec.id == "csv.read" ? "csv" : "jsonl")"
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
                    nodes[index].settings = replacing(nodes[index].settings, key: "path", with: .string(path))
                    notes.append("\(nodeID): reading its \(lines.count) rejected line(s) again")
                } else {
                    guard let (port, schema) = planned.outputSchemas.first(where: { planned.spec.outputs.first { $0.kind == .data }?.name == $0.key }) else {
                        throw Failure(description: "source '\(nodeID)' has no data output to replay into")
                    }
                    nodes[index] = try rowsReader(id: nodeID, rows: rows, schema: schema, path: directory + "/\(nodeID).jsonl")
                    edges = edges.map { edge in
                        var edge = edge
                        if edge.from.node == nodeID, edge.from.port == port { edge.from.port = "out" }
                        return edge
                    }
                    notes.append("\(nodeID): emitting its \(rows.count) rejected row(s) again")
                }
                replayed.insert(nodeID)
            } else {
                guard let port = planned.spec.inputs.first(where: { $0.kind == .data })?.name, let schema = planned.inputSchemas[port]?.first else {
                    throw Failure(description: "node '\(nodeID)' has no data input to replay into")
                }
                var feeder = "replay__\(nodeID)"
                while nodes.contains(where: { $0.id == feeder }) { feeder += "_" }
                nodes.append(try rowsReader(id: feeder, rows: rows, schema: schema, path: directory + "/\(nodeID).jsonl"))
                edges.removeAll { $0.kind == .data && $0.to.node == nodeID }
                edges.append(EdgeDeclaration(from: PortReference(node: feeder, port: "out"), to: PortReference(node: nodeID, port: port)))
                replayed.insert(feeder)
                notes.append("\(nodeID): receiving its \(rows.count) rejected row(s) again")
            }
        }

        // Keep what the replayed records flow through; everything else would re-read the original data.
        var keep = replayed
        var frontier = Array(replayed)
        while let current = frontier.popLast() {
            for edge in edges where edge.kind == .data && edge.from.node == current && keep.insert(edge.to.node).inserted { frontier.append(edge.to.node) }
        }
        nodes.removeAll { !keep.contains($0.id) }
        edges.removeAll { !keep.contains($0.from.node) || !keep.contains($0.to.node) }
        let shortRun = String(runID.prefix(8))
        for index in nodes.indices {
            guard let planned = plan.node(nodes[index].id), planned.spec.category == .sink else { continue }
            let settings = nodes[index].settings
            if let mode = value(of: settings, key: "mode"), ["replace", "create"].contains(mode) {
                nodes[index].settings = replacing(settings, key: "mode", with: .string("append"))
                notes.append("\(nodes[index].id): appending instead of \(mode)")
            } else if ["csv.write", "jsonl.write"].contains(planned.spec.id), let path = value(of: settings, key: "path") {
                let sibling = siblingPath(path, tag: "replay-\(shortRun)")
                nodes[index].settings = replacing(settings, key: "path", with: .string(sibling))
                notes.append("\(nodes[index].id): writing \(sibling) (the original file is kept)")
            }
        }
        var document = original
        document.nodes = nodes
        document.edges = edges
        return ReplayDocument(document: document, notes: notes)
    }

    /// A `jsonl.read` node over `rows`, typed with `schema` (columns in order).
    private static func rowsReader(id: String, rows: [[String: Any]], schema: Schema, path: String) throws -> NodeDeclaration {
        // Keys in the schema's column order (jsonl.read orders columns as the lines do), then any others.
        var text = ""
        let order = schema.fields.map(\.name)
        for row in rows {
            var pairs: [String] = [], seen: Set<String> = []
            for key in order + row.keys.sorted() where seen.insert(key).inserted {
                guard let value = row[key] else { continue }
                pairs.append(Self.jsonFragment(key) + ":" + Self.jsonFragment(value))
            }
            text += "{" + pairs.joined(separator: ",") + "}\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let columns = schema.fields.map { Setting.Entry(key: $0.name, keyLocation: nil, value: Setting(.string($0.type.description))) }
        return NodeDeclaration(id: id, type: NodeTypeReference(name: "jsonl.read"),
                               settings: Setting(.map([Setting.Entry(key: "path", keyLocation: nil, value: Setting(.string(path))),
                                                       Setting.Entry(key: "schema", keyLocation: nil, value: Setting(.map(columns)))])))
    }

    /// One JSON value as text (strings, numbers, booleans, null, nested values).
    private static func jsonFragment(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func value(of settings: Setting, key: String) -> String? {
        settings.entries?.first { $0.key == key }?.value.scalarText
    }

    private static func replacing(_ settings: Setting, key: String, with kind: Setting.Kind) -> Setting {
        var entries = settings.entries ?? []
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index] = Setting.Entry(key: key, keyLocation: entries[index].keyLocation, value: Setting(kind, location: entries[index].value.location))
        } else {
            entries.append(Setting.Entry(key: key, keyLocation: nil, value: Setting(kind)))
        }
        return Setting(.map(entries), location: settings.location)
    }

    /// `csv.read` has a header line unless `header: false`.
    private static func header(of settings: Setting) -> Bool {
        value(of: settings, key: "header") != "false"
    }

    private static func firstLine(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure(description: "cannot read the header of \(path), the file the rejected lines came from") }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: 1 << 20) ?? Data()
        let line = data.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? Data()
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// `out.csv` → `out.replay-1a2b3c4d.csv`.
    static func siblingPath(_ path: String, tag: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let base = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return ext.isEmpty ? "\(base).\(tag)" : "\(base).\(tag).\(ext)"
    }
}
