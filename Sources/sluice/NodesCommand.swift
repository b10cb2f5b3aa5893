import ArgumentParser
import BuiltinNodes
import Foundation
import NodeKit

/// `sluice nodes`: the catalog of node types, as a table, JSON, or Markdown reference pages.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "List the node types (table, --json, or --markdown DIR).")

    @Flag(help: "Print the full specs as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Write one Markdown page per node type into this directory.", valueName: "dir"))
    var markdown: String?

    func run() async throws {
        let specs = BuiltinNodes.registry.specs
        if let markdown {
            try FileManager.default.createDirectory(atPath: markdown, withIntermediateDirectories: true)
            for (name, text) in NodeCatalog.markdownPages(specs) {
                try text.write(toFile: (markdown as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            print("wrote \(specs.count + 1) pages to \(markdown)")
            return
        }
        if json {
            print(NodeCatalog.json(specs), terminator: "")
            return
        }
        let width = specs.map { $0.reference.count }.max() ?? 10
        for spec in specs.sorted(by: { ($0.category.rawValue, $0.id) < ($1.category.rawValue, $1.id) }) {
            print("\(spec.reference.padding(toLength: width, withPad: " ", startingAt: 0))  \(spec.category.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(spec.summary)")
        }
    }
}
