import ArgumentParser
import BuiltinNodes
import Columnar
import Foundation
import NodeKit
import Runtime

/// Options shared by commands that read a pipeline file.
struct PipelineOptions: ParsableArguments {
    @Argument(help: "The pipeline file (YAML or JSON).")
    var file: String

    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter value, NAME=VALUE (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    @Option(help: ArgumentHelp("Connections file (default: connections.yaml beside the pipeline, if present).", valueName: "file"))
    var connections: String?

    @Option(name: .customLong("files-root"),
            help: ArgumentHelp("Confine every file path (file nodes, SQLite paths) to this directory, as the server does; relative paths resolve against the first (repeatable).", valueName: "dir"))
    var filesRoot: [String] = []

    /// The connections for this run: --connections, or connections.yaml beside the pipeline, or none.
    func connectionCatalog() throws(ConfigErrors) -> ConnectionCatalog {
        let beside = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("connections.yaml").path
        guard let path = connections ?? (FileManager.default.fileExists(atPath: beside) ? beside : nil) else { return .empty }
        return try ConnectionsFile.load(path: path, specs: BuiltinNodes.connectors.specs)
    }

    /// Loads and plans the pipeline; prints every problem and exits 2 when it is invalid.
    func plan(previewNode: String? = nil, forRun: Bool = false, output: Output) async throws -> ExecutionPlan {
        do {
            let document = try PipelineDocument.load(path: file)
            let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
            let files: FileRoots = filesRoot.isEmpty ? .unconfined(base: base) : .confined(to: filesRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
            let compiler = PipelineCompiler(registry: BuiltinNodes.registry, files: files, now: { Int64(Date().timeIntervalSince1970 * 1_000_000) })
            return try await compiler.compile(document, parameters: try RunParameters(pairs: parameters), connections: try connectionCatalog(),
                                              previewNode: previewNode, forRun: forRun)
        } catch let error as ConfigErrors {
            output.problems(error.errors)
            throw ExitStatus.invalid
        }
    }
}

/// Where command output goes: human text on stdout/stderr, or JSON lines.
struct Output: Sendable {
    let json: Bool

    func problems(_ errors: [ConfigError]) {
        if json {
            for e in errors {
                print(JSONText.object([("event", .string("invalid")), ("code", .string(e.code)), ("message", .string(e.message)),
                                       ("file", e.location?.file.map(Value.string) ?? .null), ("line", e.location.map { .int(Int64($0.line)) } ?? .null),
                                       ("column", e.location.map { .int(Int64($0.column)) } ?? .null),
                                       ("node", e.node.map(Value.string) ?? .null), ("field", e.field.map(Value.string) ?? .null),
                                       ("expected", e.expected.map(Value.string) ?? .null)]))
            }
        } else {
            let noun = errors.count == 1 ? "problem" : "problems"
            Terminal.error("pipeline is invalid (\(errors.count) \(noun)):")
            for e in errors { Terminal.error("  " + e.description.replacingOccurrences(of: "\n", with: "\n    ")) }
        }
    }
}

/// Writes to stderr.
enum Terminal {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes a line to stdout immediately (unbuffered), for servers whose output is piped.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static var isInteractive: Bool { isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }
}
