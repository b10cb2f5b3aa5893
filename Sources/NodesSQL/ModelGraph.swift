import Foundation
import NodeKit

/// A folder of SQL models as a graph, for `sluice models ls|graph`: each model in build order with what it
/// reads and the tests that check it; printable as DOT or Mermaid text.
public struct ModelGraph: Sendable {
    /// One model.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let file: String
        public let materialized: String
        /// Models it reads.
        public let models: [String]
        /// Declared sources it reads, as `source.table`.
        public let sources: [String]
        /// The tests that check it.
        public let tests: [String]
    }

    /// Models in build order.
    public let models: [Entry]

    /// A project that cannot be read: the file, line and what is wrong.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the project in `folder` (a path as given on the command line; singular tests from a `tests` folder
    /// beside it).
    public static func load(_ folder: String) throws -> ModelGraph {
        let resolved = URL(fileURLWithPath: folder).standardizedFileURL.path
        let parent = PathText.parent(resolved)
        let writtenParent = PathText.parent(folder)
        let project: ModelProject
        do {
            project = try ModelProject.load(folder: resolved, written: folder, testsFolder: (parent + "/tests", writtenParent.isEmpty ? "tests" : writtenParent + "/tests")) { _ in }
        } catch let failure as ModelProject.Failure {
            throw LoadError(description: failure.description)
        }
        return ModelGraph(models: project.order.map { name in
            let model = project.models[name]!
            var seen = Set<String>()
            return Entry(name: name, file: model.file, materialized: model.materialization.rawValue, models: model.dependsOn,
                         sources: model.template.sources.map { "\($0.source).\($0.table)" }.filter { seen.insert($0).inserted },
                         tests: project.tests.filter { $0.subject == name }.map(\.name))
        })
    }

    /// Graphviz DOT text: sources as cylinders, models as boxes (views dashed), arrows from what is read.
    public func dot() -> String {
        func escaped(_ text: String) -> String { text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        func id(_ text: String) -> String { "\"" + escaped(text) + "\"" }
        var lines = ["digraph models {", "  rankdir=LR;", "  node [shape=box, fontname=\"Helvetica\"];"]
        for source in Set(models.flatMap(\.sources)).sorted() { lines.append("  \(id(source)) [shape=cylinder];") }
        for model in models {
            let label = "\"" + escaped(model.name) + "\\n" + model.materialized + "\""
            lines.append("  \(id(model.name)) [label=\(label)\(model.materialized == "view" ? ", style=dashed" : "")];")
        }
        for model in models {
            for input in model.sources + model.models { lines.append("  \(id(input)) -> \(id(model.name));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// Mermaid flowchart text (renders in GitHub and GitLab markdown).
    public func mermaid() -> String {
        var ids: [String: String] = [:]
        func id(_ name: String) -> String {
            if let known = ids[name] { return known }
            let made = "n\(ids.count)"
            ids[name] = made
            return made
        }
        func label(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "#quot;") + "\"" }
        var lines = ["flowchart LR"]
        for source in Set(models.flatMap(\.sources)).sorted() { lines.append("  \(id(source))[(\(label(source)))]") }
        for model in models { lines.append("  \(id(model.name))[\(label("\(model.name) · \(model.materialized)"))]") }
        for model in models {
            for input in model.sources + model.models { lines.append("  \(id(input)) --> \(id(model.name))") }
        }
        return lines.joined(separator: "\n")
    }
}
