import NodeKit
import Store
import Runtime
import Services

/// `POST /api/v1/pipelines/{id}/tests`: runs the tests a pipeline carries under `tests:` (its current revision,
/// or the editor's draft) and answers with each test's outcome. Needs the runner role; tests write nothing.
enum TestRoutes {
    struct Input: Decodable { var document: JSONValue? }
    /// One test: whether it passed, what differed, how long it took.
    struct TestView: APIView { var name: String; var passed: Bool; var failures: [String]; var durationMs: Int64 }
    /// The tests' outcomes in order, with counts.
    struct Outcome: APIView { var passed: Int; var failed: Int; var tests: [TestView] }

    static let endpoint = Endpoint(
        .post, "/api/v1/pipelines/{id}/tests", "runPipelineTests",
        "Runs the pipeline's own tests (tests: in its document; a draft document may be given) and returns each outcome. Nothing is written.",
        tag: "pipelines", request: APISchema.of(Input.self), response: Outcome.schema) { call in
        let input: Input = (call.body?.readableBytes ?? 0) > 0 ? try call.decode(Input.self) : Input()
        let draft = try input.document.map { try PipelineSource($0) }
        let results = try await call.services.pipelines.runTests(call.parameter("id"), draft: draft, for: try call.caller)
        let views = results.map { result in
            TestView(name: result.name, passed: result.passed, failures: result.failures,
                     durationMs: result.duration.components.seconds * 1000 + result.duration.components.attoseconds / 1_000_000_000_000_000)
        }
        return try .json(Outcome(passed: views.filter(\.passed).count, failed: views.filter { !$0.passed }.count, tests: views))
    }
}
