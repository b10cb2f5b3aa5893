import BuiltinNodes
import Columnar
import Foundation
import NodeKit
import Testing

@Suite struct PipelineDocumentTests {
    static let yaml = """
    apiVersion: sluice/v1
    name: demo
    parameters:
      since: { type: timestamp, default: "2024-01-01T00:00:00Z" }
      limit: { type: int64 }
    settings: { maxConcurrency: 2, onRecordError: reject, maxRejected: 10 }
    nodes:
      - id: a
        type: csv.read@1
        settings: { path: in.csv }
        retry: { attempts: 3, backoff: 250ms }
        timeout: 30s
      - id: b
        type: csv.write
        settings: { path: out.csv }
    edges:
      - { from: a.out, to: b.in }
      - { from: a.done, to: b.start, kind: signal }
    layout: { a: [10, 20], b: [200, 20] }
    """

    @Test func yamlAndJSONGiveTheSameModel() throws {
        let fromYAML = try PipelineDocument.parse(Self.yaml)
        let json = """
        {"apiVersion": "sluice/v1", "name": "demo",
         "parameters": {"since": {"type": "timestamp", "default": "2024-01-01T00:00:00Z"}, "limit": {"type": "int64"}},
         "settings": {"maxConcurrency": 2, "onRecordError": "reject", "maxRejected": 10},
         "nodes": [{"id": "a", "type": "csv.read@1", "settings": {"path": "in.csv"}, "retry": {"attempts": 3, "backoff": "250ms"}, "timeout": "30s"},
                   {"id": "b", "type": "csv.write", "settings": {"path": "out.csv"}}],
         "edges": [{"from": "a.out", "to": "b.in"}, {"from": "a.done", "to": "b.start", "kind": "signal"}],
         "layout": {"a": [10, 20], "b": [200, 20]}}
        """
        let fromJSON = try PipelineDocument.parse(json)
        for document in [fromYAML, fromJSON] {
            #expect(document.name == "demo")
            #expect(document.parameters.map(\.name) == ["since", "limit"])
            #expect(document.parameters[0].defaultValue == .timestamp(CivilTime.parseTimestamp("2024-01-01T00:00:00Z")!))
            #expect(document.settings.maxConcurrency == 2 && document.settings.maxRejected == 10)
            #expect(document.nodes.map(\.type) == [NodeTypeReference(name: "csv.read", version: 1), NodeTypeReference(name: "csv.write")])
            #expect(document.nodes[0].retry == RetrySettings(attempts: 3, backoff: .milliseconds(250)))
            #expect(document.nodes[0].timeout == .seconds(30))
            #expect(document.edges.map(\.kind) == [.data, .signal])
            #expect(document.layout["b"] == [200, 20])
        }
    }

    @Test func everyStructuralProblemIsReportedWithItsLine() {
        let text = """
        apiVersion: sluice/v1
        name: broken
        colour: blue
        settings: { onRecordError: explode }
        nodes:
          - id: a
            typ: csv.read
          - id: b
            type: filter@x
        edges:
          - { from: a, to: b.in }
        """
        do {
            _ = try PipelineDocument.parse(text, file: "p.yaml")
            Issue.record("expected errors")
        } catch {
            let byCode = Dictionary(grouping: error.errors, by: \.code)
            #expect(error.errors.count >= 5, "\(error)")
            let unknown = byCode["unknown_key"] ?? []
            #expect(unknown.contains { $0.field == "colour" && $0.location?.line == 3 })
            #expect(unknown.contains { $0.field == "typ" && $0.location?.line == 7 && $0.message.contains("did you mean 'type'") })
            #expect(error.errors.contains { $0.field == "settings.onRecordError" && $0.location?.line == 4 })
            #expect(error.errors.contains { $0.node == "b" && $0.field == "type" && $0.location?.line == 9 })
            #expect(error.errors.contains { $0.field == "from" && $0.message.contains("not a port reference") })
            #expect(error.errors.allSatisfy { $0.location?.file == "p.yaml" })
        }
    }

    @Test func yamlSyntaxErrorsHaveALocation() {
        do {
            _ = try PipelineDocument.parse("name: [unclosed\nnodes: []\n", file: "bad.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.first?.code == "syntax_error")
            #expect(error.errors.first?.location?.line ?? 0 >= 1)
        }
    }

    @Test func parametersResolveOverridesDefaultsAndTypes() throws {
        let document = try PipelineDocument.parse(Self.yaml)
        let values = try ParameterValues.resolve(document.parameters, overrides: ["limit": "5"])
        #expect(values["limit"] == .int(5))
        #expect(throws: ConfigErrors.self) { try ParameterValues.resolve(document.parameters, overrides: [:]) }
        do { _ = try ParameterValues.resolve(document.parameters, overrides: ["limit": "many", "nope": "1"]) } catch {
            #expect(error.errors.map(\.code).sorted() == ["invalid_value", "unknown_parameter"])
        }
    }

    @Test(arguments: [("csv.read", "csv.read", nil), ("filter@2", "filter", 2)] as [(String, String, Int?)])
    func typeReferencesParse(text: String, name: String, version: Int?) {
        #expect(NodeTypeReference(parsing: text) == NodeTypeReference(name: name, version: version))
    }

    @Test func durationsParse() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("2m") == .seconds(120))
        #expect(DurationText.parse("1.5") == .milliseconds(1500))
        #expect(DurationText.parse("soon") == nil)
    }
}

@Suite struct NodeSpecTests {
    @Test func everySpecIsWellFormed() {
        var seen = Set<String>()
        for spec in BuiltinNodes.registry.specs {
            #expect(seen.insert(spec.reference).inserted, "duplicate \(spec.reference)")
            #expect(!spec.summary.isEmpty && !spec.title.isEmpty)
            #expect(spec.version >= 1)
            #expect(Set(spec.fields.map(\.name)).count == spec.fields.count, "\(spec.id) repeats a field")
            for field in spec.fields { #expect(!field.summary.isEmpty, "\(spec.id).\(field.name) needs a summary") }
            if spec.category == .source { #expect(spec.inputs.isEmpty) }
            if spec.category == .sink {
                #expect(spec.capabilities.contains(.transactionalSink) != spec.capabilities.contains(.immediateDelivery),
                        "\(spec.id): a sink either commits at the end or says it delivers at once")
            }
        }
    }

    @Test func settingsCheckReportsUnknownAndMissingFields() throws {
        let settings = Setting(.map([Setting.Entry(key: "pth", keyLocation: SourceLocation(file: "p.yaml", line: 4, column: 7), value: Setting(.string("x")))]),
                               location: SourceLocation(file: "p.yaml", line: 3, column: 5))
        let spec = BuiltinNodes.registry.resolve(NodeTypeReference(name: "csv.read"))!.spec
        let problems = spec.check(settings, node: "orders")
        #expect(problems.map(\.code).sorted() == ["missing_field", "unknown_key"])
        #expect(problems.first { $0.code == "unknown_key" }?.message.contains("did you mean 'path'") == true)
        #expect(problems.allSatisfy { $0.node == "orders" })
    }

    @Test func docsInTheRepositoryMatchTheSpecs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for (name, text) in NodeCatalog.markdownPages(BuiltinNodes.registry.specs) {
            let onDisk = try String(contentsOf: root.appendingPathComponent("docs/nodes/\(name)"), encoding: .utf8)
            #expect(onDisk == text, "docs/nodes/\(name) is stale: run sluice nodes --markdown docs/nodes")
        }
    }

    @Test func catalogJSONParses() throws {
        let json = NodeCatalog.json(BuiltinNodes.registry.specs)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(parsed?.count == BuiltinNodes.registry.specs.count)
        #expect(parsed?.first?["fields"] is [Any])
        // Every field's kind is one the editor's forms know (a schema is not "schema (column: type)").
        let known: Set<String> = ["string", "integer", "number", "boolean", "duration", "choice", "expression", "path", "connection", "list", "map", "schema"]
        for spec in parsed ?? [] {
            for field in spec["fields"] as? [[String: Any]] ?? [] {
                #expect(known.contains(field["kind"] as? String ?? ""), "\(spec["id"] ?? "?").\(field["name"] ?? "?"): \(field["kind"] ?? "none")")
            }
        }
    }
}
