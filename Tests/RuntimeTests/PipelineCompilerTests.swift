import BuiltinNodes
import Columnar
import NodeKit
import SluiceTestSupport
import Testing
@testable import Runtime

/// The one compile path: parameters typed against declarations, connections from the resolver it is
/// given, `now()` from the injected clock, and every problem reported.
@Suite struct PipelineCompilerTests {
    static let document = """
        apiVersion: sluice/v1
        name: t
        parameters:
          minimum: {type: int64, default: 1}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: f, type: filter, settings: {where: "a >= ${minimum} AND now() > TIMESTAMP '2020-01-01 00:00:00'"}}
        edges:
          - {from: src.out, to: f.in}
        """

    struct RefusingResolver: ConnectionResolver {
        func catalog(for names: Set<String>) async throws -> ConnectionCatalog {
            throw ConfigErrors([ConfigError(code: "refused", message: "refused \(names.sorted())")])
        }
    }

    @Test func parametersAreTypedAndTheClockIsInjected() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", "a\n1\n5\n")
        let compiler = PipelineCompiler(registry: BuiltinNodes.registry, files: .unconfined(base: dir.path), now: { 1_800_000_000_000_000 })
        let document = try PipelineDocument.parse(Self.document, file: dir.file("p.yaml"))
        _ = try await compiler.compile(document, parameters: RunParameters(["minimum": "3"]), connections: ConnectionCatalog.empty)
        do {
            _ = try await compiler.compile(document, parameters: RunParameters(["minimum": "three", "other": "1"]), connections: ConnectionCatalog.empty)
            Issue.record("bad parameters compiled")
        } catch let errors as ConfigErrors {
            #expect(Set(errors.errors.map(\.code)) == ["invalid_value", "unknown_parameter"], "\(errors)")
        }
    }

    @Test func theResolverIsAskedForTheNamedConnectionsOnly() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let text = """
            apiVersion: sluice/v1
            name: t
            nodes:
              - {id: src, type: sqlite.read, settings: {connection: shop, table: t}}
            edges: []
            """
        let compiler = PipelineCompiler(registry: BuiltinNodes.registry, files: .unconfined(base: dir.path), now: { 0 })
        do {
            _ = try await compiler.compile(try PipelineDocument.parse(text, file: nil), connections: RefusingResolver())
            Issue.record("the resolver was not asked")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.first?.message == "refused [\"shop\"]")
        }
    }
}
