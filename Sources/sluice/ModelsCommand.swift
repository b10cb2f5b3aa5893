import ArgumentParser
import Foundation
import NodeKit
import NodesSQL

/// `sluice models ls|graph PATH`: a folder of SQL models as a list or a graph, checked as `sql.models` checks it.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List SQL models or print their dependency graph.", subcommands: [List.self, Graph.self])

    static func load(_ path: String) throws -> ModelGraph {
        do { return try ModelGraph.load(path) } catch {
            Terminal.error("sluice models: \(error)")
            throw ExitStatus.invalid
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the models in build order: materialization, what each reads, its tests.")

        @Argument(help: "The models folder (*.sql and schema.yaml files).")
        var path: String

        @Flag(help: "One JSON object per model.")
        var json = false

        func run() async throws {
            let graph = try ModelsCommand.load(path)
            for model in graph.models {
                if json {
                    print(JSONText.object([("name", .string(model.name)), ("file", .string(model.file)), ("materialized", .string(model.materialized)),
                                           ("models", .json("[" + model.models.map(JSONText.quoted).joined(separator: ",") + "]")),
                                           ("sources", .json("[" + model.sources.map(JSONText.quoted).joined(separator: ",") + "]")),
                                           ("tests", .json("[" + model.tests.map(JSONText.quoted).joined(separator: ",") + "]"))]))
                } else {
                    let reads = model.sources.map { "source \($0)" } + model.models
                    print("\(model.name)  (\(model.materialized), \(model.file))" + (reads.isEmpty ? "" : "\n    reads: \(reads.joined(separator: ", "))")
                          + (model.tests.isEmpty ? "" : "\n    tests: \(model.tests.joined(separator: ", "))"))
                }
            }
            if !json { print("\(graph.models.count) model\(graph.models.count == 1 ? "" : "s")") }
        }
    }

    struct Graph: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "graph", abstract: "Print the dependency graph as DOT (Graphviz) or Mermaid text.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case dot, mermaid }

        @Argument(help: "The models folder.")
        var path: String

        @Option(help: "dot or mermaid.")
        var format: Format = .dot

        func run() async throws {
            let graph = try ModelsCommand.load(path)
            print(format == .dot ? graph.dot() : graph.mermaid())
        }
    }
}
