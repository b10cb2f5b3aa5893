import Testing
@testable import NodeKit

/// Run parameters travel as text by name: from `--param` pairs, the API and triggers, stored with a run as
/// a JSON object of strings and read back strictly.
@Suite struct RunParametersTests {
    @Test func pairsSplitAtTheFirstEqualsSign() throws {
        #expect(try RunParameters(pairs: ["since=2024-01-01", "where=a=b", "empty="]).values == ["since": "2024-01-01", "where": "a=b", "empty": ""])
        #expect(throws: ConfigErrors.self) { try RunParameters(pairs: ["=x"]) }
        #expect(throws: ConfigErrors.self) { try RunParameters(pairs: ["novalue"]) }
    }

    @Test func theStoredJSONRoundTrips() throws {
        let parameters = RunParameters(["b": "two \"quoted\" ünï", "a": "1", "path": "in/ö.csv"])
        #expect(parameters.jsonText == #"{"a":"1","b":"two \"quoted\" ünï","path":"in/ö.csv"}"#)
        #expect(try RunParameters(jsonText: parameters.jsonText) == parameters)
        #expect(try RunParameters(jsonText: "{}") == RunParameters())
    }

    @Test(arguments: ["[1, 2]", "\"text\"", "{\"a\": {\"nested\": 1}}", "{\"a\": [1]}", "{not json"])
    func anythingButAnObjectOfTextIsAnError(text: String) {
        #expect(throws: ConfigErrors.self) { try RunParameters(jsonText: text) }
    }
}
