import ArgumentParser
import BuiltinNodes
import Foundation
import NodeKit
import Runtime

/// `sluice test [PATH…]`: runs pipeline tests (`*.test.yaml`) and reports like a test runner.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run pipeline tests (*.test.yaml files).",
        discussion: """
        Each test runs the pipeline once with the nodes it names replaced by rows or fixture files, sinks writing nothing \
        (unless listed under targets), and checks the expected rows, counts, rules and rejects. See docs/testing.md.
        Exit status: 0 every test passed, 1 a test failed, 2 a test file is invalid or there is none.
        """)

    @Argument(help: ArgumentHelp("Test files, pipelines carrying tests, or folders searched for both (default: the current folder).", valueName: "path"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("Also write the results as JUnit XML (for CI).", valueName: "file"))
    var junit: String?

    @Flag(help: "Write the rows each test observed as its new expected rows (comments in the file are not kept), then run again.")
    var update = false

    func run() async throws {
        let files = try Self.testFiles(paths.isEmpty ? ["."] : paths)
        guard !files.isEmpty else {
            Terminal.error("no test files (*.test.yaml) in \(paths.isEmpty ? "." : paths.joined(separator: ", "))")
            throw ExitStatus.invalid
        }
        var report: [(file: String, results: [PipelineTestResult])] = []
        var invalid = false
        for path in files {
            if !Self.isTestFile(path) {
                // A pipeline carrying its own tests under tests:.
                guard let results = await runEmbedded(path) else { invalid = true; continue }
                print(path, results)
                report.append((path, results))
                continue
            }
            var file: PipelineTestFile
            do { file = try PipelineTestFile.load(path: path) } catch {
                Terminal.error("\(path) is invalid:")
                for problem in error.errors { Terminal.error("  " + problem.description) }
                invalid = true
                continue
            }
            let runner = PipelineTestRunner(registry: BuiltinNodes.registry, connections: try Self.connections(beside: file.pipeline))
            var results = await runner.run(file)
            if update {
                let text = YAMLWriter.text(file.updated(with: results))
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                do { file = try PipelineTestFile.load(path: path) } catch {
                    Terminal.error("\(path) could not be read back after --update: \(error)")
                    throw ExitStatus.invalid
                }
                results = await runner.run(file)
                Terminal.line("updated \(path)")
            }
            print(path, results)
            report.append((path, results))
        }
        let all = report.flatMap(\.results)
        let failed = all.filter { !$0.passed }.count
        Terminal.line("\(all.count) test(s): \(all.count - failed) passed, \(failed) failed")
        if let junit { try JUnitReport.xml(report).write(toFile: junit, atomically: true, encoding: .utf8) }
        if invalid { throw ExitStatus.invalid }
        if failed > 0 { throw ExitStatus.failed }
    }

    /// Runs the tests a pipeline file carries; nil (after printing why) when they cannot run.
    private func runEmbedded(_ path: String) async -> [PipelineTestResult]? {
        let document: PipelineDocument, tests: [PipelineTest]
        do {
            document = try PipelineDocument.load(path: path)
            tests = try PipelineTestFile.embedded(in: document)
        } catch {
            Terminal.error("\(path) is invalid:")
            for problem in error.errors { Terminal.error("  " + problem.description) }
            return nil
        }
        guard !tests.isEmpty else {
            Terminal.error("\(path) has no tests: add a tests: list, or write them in a *.test.yaml file")
            return nil
        }
        if update { Terminal.error("--update rewrites *.test.yaml files only; the tests inside \(path) stay as written") }
        do {
            let runner = PipelineTestRunner(registry: BuiltinNodes.registry, connections: try Self.connections(beside: path))
            return await runner.run(tests, of: document)
        } catch {
            Terminal.error("\(path): \(error)")
            return nil
        }
    }

    static func isTestFile(_ path: String) -> Bool { path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml") }

    private func print(_ path: String, _ results: [PipelineTestResult]) {
        Terminal.line(path)
        for result in results {
            let ms = Int((Double(result.duration.components.attoseconds) / 1e15 + Double(result.duration.components.seconds) * 1000).rounded())
            Terminal.line("  \(result.passed ? "✔" : "✘") \(result.name) (\(ms) ms)")
            for failure in result.failures { Terminal.line(failure.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n")) }
        }
    }

    /// The test files among `paths`: files as given, folders searched (recursively) for `*.test.yaml` / `*.test.yml`.
    static func testFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                Terminal.error("no such file or folder: \(path)")
                throw ExitStatus.invalid
            }
            guard isFolder.boolValue else { files.append(path); continue }
            let found = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
            let candidates = found.filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }.sorted().map { path == "." ? $0 : (path as NSString).appendingPathComponent($0) }
            files += candidates.filter { isTestFile($0) || carriesTests($0) }
        }
        return files
    }

    /// Whether a YAML file is a pipeline with a top-level tests: list (a cheap look at its lines).
    static func carriesTests(_ path: String) -> Bool {
        guard path.hasSuffix(".yaml") || path.hasSuffix(".yml"), let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return text.hasPrefix("tests:") || text.contains("\ntests:")
    }

    /// connections.yaml beside the pipeline, when there is one.
    static func connections(beside pipeline: String) throws -> ConnectionCatalog {
        let path = URL(fileURLWithPath: pipeline).deletingLastPathComponent().appendingPathComponent("connections.yaml").path
        guard FileManager.default.fileExists(atPath: path) else { return .empty }
        return try ConnectionsFile.load(path: path, specs: BuiltinNodes.connectors.specs)
    }
}

/// Test results as JUnit XML: one test suite per file, one test case per test, failures with their text.
enum JUnitReport {
    static func xml(_ report: [(file: String, results: [PipelineTestResult])]) -> String {
        func seconds(_ d: Duration) -> String { String(format: "%.3f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
        func escape(_ s: String) -> String { MarkupText.escaped(s) }
        let all = report.flatMap(\.results)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"sluice test\" tests=\"\(all.count)\" failures=\"\(all.filter { !$0.passed }.count)\">\n"
        for (file, results) in report {
            let time = results.reduce(Duration.zero) { $0 + $1.duration }
            xml += "  <testsuite name=\"\(escape(file))\" tests=\"\(results.count)\" failures=\"\(results.filter { !$0.passed }.count)\" time=\"\(seconds(time))\">\n"
            for result in results {
                xml += "    <testcase classname=\"\(escape(file))\" name=\"\(escape(result.name))\" time=\"\(seconds(result.duration))\""
                if result.passed { xml += "/>\n"; continue }
                let text = result.failures.joined(separator: "\n")
                xml += ">\n      <failure message=\"\(escape(String(text.prefix { $0 != "\n" })))\">\(escape(text))</failure>\n    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }
}
