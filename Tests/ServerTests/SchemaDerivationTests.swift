import Foundation
@testable import Server
import Store
import Testing

/// The OpenAPI schemas are derived from the types' own `Codable` conformance: check the derivation on a type
/// with every shape, and that every response type of the API derives to a real object schema.
@Suite struct SchemaDerivationTests {
    struct Sample: APIView {
        struct Inner: Codable { var name: String }
        var pipelineId: String
        var count: Int64
        var ratio: Double
        var ok: Bool
        var phase: RunPhase
        var note: String?
        var tags: [String]
        var inners: [Inner]
        var labels: [String: String]
        var settings: [String: JSONValue]
        var anything: JSONValue
        var maybeRole: ShareRole?
    }

    @Test func aTypeDescribesItselfAsTheEncoderWritesIt() throws {
        let schema = Sample.schema
        #expect(schema["type"] == .string("object"))
        let properties = try #require(schema["properties"]?.objectValue)
        #expect(Set(properties.keys) == ["pipeline_id", "count", "ratio", "ok", "phase", "note", "tags", "inners", "labels", "settings", "anything", "maybe_role"])
        #expect(properties["pipeline_id"] == APISchema.string)
        #expect(properties["count"] == APISchema.integer)
        #expect(properties["ratio"] == APISchema.number)
        #expect(properties["ok"] == APISchema.boolean)
        #expect(properties["phase"] == APISchema.enumeration(RunPhase.allCases.map(\.rawValue)))
        #expect(properties["maybe_role"] == APISchema.enumeration(ShareRole.allCases.map(\.rawValue)))
        #expect(properties["tags"] == APISchema.array(APISchema.string))
        #expect(properties["inners"] == APISchema.array(APISchema.object(["name": APISchema.string])))
        #expect(properties["labels"] == APISchema.map(APISchema.string))
        #expect(properties["settings"] == APISchema.map(APISchema.any))
        #expect(properties["anything"] == APISchema.any)
        // Optional fields are left out when nil (the encoder omits them), so they are not required.
        #expect(schema["required"] == .array(["anything", "count", "inners", "labels", "ok", "phase", "pipeline_id", "ratio", "settings", "tags"].map(JSONValue.string)))
    }

    @Test func theDerivedKeysAreTheKeysTheEncoderWrites() throws {
        let sample = Sample(pipelineId: "p", count: 1, ratio: 0.5, ok: true, phase: .queued, note: "n", tags: ["t"], inners: [.init(name: "i")],
                            labels: ["a": "b"], settings: ["x": .int(1)], anything: .null, maybeRole: .owner)
        let encoded = try #require(JSONValue.parse(String(decoding: try JSONCoding.encoder.encode(sample), as: UTF8.self))?.objectValue)
        let declared = try #require(Sample.schema["properties"]?.objectValue)
        #expect(Set(encoded.keys) == Set(declared.keys))
    }

    @Test func everyComponentAndResponseDerivesToAnObjectWithProperties() {
        for (name, schema) in OpenAPIDocument.components {
            #expect(schema["type"] == .string("object") && schema["properties"]?.objectValue?.isEmpty == false, "component \(name) did not derive: \(schema.text)")
        }
        for endpoint in APIRouter.endpoints() {
            guard let schema = endpoint.responseSchema, schema["type"] == .string("object"), schema != APISchema.anyObject else { continue }
            #expect(schema["properties"]?.objectValue?.isEmpty == false, "\(endpoint.operationID)'s response did not derive: \(schema.text)")
        }
    }
}
