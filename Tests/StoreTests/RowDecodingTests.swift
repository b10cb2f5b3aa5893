import Testing
@testable import Store

/// Rows the schema does not explain are errors naming the column, never silent defaults (an unknown run
/// status used to read as `failed`, a missing name as "").
@Suite struct RowDecodingTests {
    @Test(arguments: Backend.allCases)
    func anUnknownRunStatusIsAnErrorNotFailed(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let run = try await RunQueue(store: store, bus: LocalEventBus()).enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
            try await store.transaction { try await $0.execute("UPDATE runs SET status = 'exploded' WHERE id = $1", .text(run.id)) }
            do {
                _ = try await store.run(id: run.id)
                Issue.record("a run with an unknown status was read")
            } catch let error as StoreError {
                #expect(error.message.contains("'exploded'") && error.message.contains("status"), "\(error)")
            }
        }
    }

    @Test func aMissingColumnIsNamed() {
        let row = SQLRow(columns: ["id"], values: [.text("x")])
        #expect(throws: StoreError.self) { try row.required("name") }
        #expect(throws: StoreError.self) { try SQLRow(columns: ["n"], values: [.null]).requiredInt("n") }
        #expect((try? row.required("id")) == "x")
    }
}
