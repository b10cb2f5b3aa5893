import Foundation
import Store
import NodeKit
import Runtime

/// A value of a fixed set of strings (a Swift enum with `String` raw values): its schema lists them.
protocol APIEnumeration {
    static var apiValues: [String] { get }
    /// Any one value, handed back while a schema is derived.
    static var apiSample: Self { get }
}

extension APIEnumeration where Self: CaseIterable & RawRepresentable, RawValue == String {
    static var apiValues: [String] { allCases.map(\.rawValue) }
    static var apiSample: Self { allCases.first! }
}

extension RunPhase: APIEnumeration {}
extension ShareRole: APIEnumeration {}
extension ConnectionRole: APIEnumeration {}
extension User.Role: APIEnumeration {}
extension LogLevel: APIEnumeration {}
extension DebugCommand: APIEnumeration {}
extension Vault.Status: APIEnumeration {}

/// A dictionary with string keys: its schema is a map of its values' schema.
protocol APIStringMap {
    static var valueSchema: JSONValue { get }
    static var empty: Self { get }
}

extension Dictionary: APIStringMap where Key == String, Value: Decodable {
    static var valueSchema: JSONValue { SchemaDerivation.schema(of: Value.self) }
    static var empty: Self { [:] }
}

/// Derives a type's JSON Schema from its `Decodable` conformance: a recording decoder walks the type's own
/// `init(from:)`, noting each key it asks for (as the API spells it: snake_case), its type, and whether it is
/// optional. The schema therefore cannot drift from the fields: it is read from the same code that reads them.
///
/// `JSONValue` fields are any JSON; `APIEnumeration` fields list their values; `[String: V]` fields are maps.
enum SchemaDerivation {
    static func schema<T: Decodable>(of type: T.Type) -> JSONValue {
        (try? record(type))?.schema ?? APISchema.any
    }

    /// Decodes a `T` from a recording decoder; returns the sample it made and the schema it saw.
    static func record<T: Decodable>(_ type: T.Type) throws -> (value: T, schema: JSONValue) {
        if type == JSONValue.self { return (JSONValue.null as! T, APISchema.any) }
        if let enumeration = type as? any APIEnumeration.Type { return (enumeration.apiSample as! T, APISchema.enumeration(enumeration.apiValues)) }
        if let map = type as? any APIStringMap.Type { return (map.empty as! T, APISchema.map(map.valueSchema)) }
        let recorder = SchemaRecorder()
        let value = try T(from: recorder)
        return (value, recorder.schema)
    }

    /// A property name as the API's JSON encoder writes it (`pipelineId` → `pipeline_id`), asked of the encoder itself.
    static func apiName(_ key: String) -> String {
        struct Probe: Encodable {
            let key: String
            struct Key: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(0, forKey: Key(stringValue: key))
            }
        }
        guard let data = try? JSONCoding.encoder.encode(Probe(key: key)), case let .object(fields)? = JSONValue.parse(String(decoding: data, as: UTF8.self)),
              let name = fields.keys.first else { return key }
        return name
    }
}

/// The decoder that records; its container decides the schema's shape.
final class SchemaRecorder: Decoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    private var shape: (() -> JSONValue)?

    var schema: JSONValue { shape?() ?? APISchema.any }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let container = KeyedRecorder<Key>()
        shape = { APISchema.object(container.properties, optional: container.optional) }
        return KeyedDecodingContainer(container)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = UnkeyedRecorder()
        shape = { container.items.map(APISchema.array) ?? .object(["type": .string("array")]) }
        return container
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        let container = SingleValueRecorder()
        shape = { container.nullable ? APISchema.nullable(container.schema) : container.schema }
        return container
    }
}

/// Schemas of the primitive types, and sample values to hand back.
private enum Primitive {
    static func schema(_ type: Any.Type) -> JSONValue? {
        switch type {
        case is String.Type: APISchema.string
        case is Bool.Type: APISchema.boolean
        case is Double.Type, is Float.Type: APISchema.number
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type, is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type:
            APISchema.integer
        default: nil
        }
    }
}

private final class KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { [] }
    var properties: [String: JSONValue] = [:]
    var optional: Set<String> = []

    func contains(_ key: Key) -> Bool { true }

    /// Asked only by `decodeIfPresent`: the key is optional.
    func decodeNil(forKey key: Key) throws -> Bool {
        optional.insert(SchemaDerivation.apiName(key.stringValue))
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (value, schema) = try SchemaDerivation.record(type)
        properties[SchemaDerivation.apiName(key.stringValue)] = schema
        return value
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { note(key, type); return false }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { note(key, type); return "" }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { note(key, type); return 0 }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { note(key, type); return 0 }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { note(key, type); return 0 }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { note(key, type); return 0 }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { note(key, type); return 0 }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { note(key, type); return 0 }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { note(key, type); return 0 }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { note(key, type); return 0 }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { note(key, type); return 0 }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { note(key, type); return 0 }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { note(key, type); return 0 }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { note(key, type); return 0 }

    private func note(_ key: Key, _ type: Any.Type) {
        properties[SchemaDerivation.apiName(key.stringValue)] = Primitive.schema(type) ?? APISchema.any
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let nested = KeyedRecorder<NestedKey>()
        properties[SchemaDerivation.apiName(key.stringValue)] = APISchema.anyObject
        return KeyedDecodingContainer(nested)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        properties[SchemaDerivation.apiName(key.stringValue)] = .object(["type": .string("array")])
        return UnkeyedRecorder()
    }

    func superDecoder() throws -> any Decoder { SchemaRecorder() }
    func superDecoder(forKey key: Key) throws -> any Decoder { SchemaRecorder() }
}

/// Records an array's element schema from the first element asked for, then reports the end.
private final class UnkeyedRecorder: UnkeyedDecodingContainer {
    var codingPath: [any CodingKey] = []
    var count: Int? { nil }
    var currentIndex = 0
    var items: JSONValue?
    var isAtEnd: Bool { currentIndex > 0 }

    func decodeNil() throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try SchemaDerivation.record(type)
        items = schema
        currentIndex += 1
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool { note(type); return false }
    func decode(_ type: String.Type) throws -> String { note(type); return "" }
    func decode(_ type: Double.Type) throws -> Double { note(type); return 0 }
    func decode(_ type: Int.Type) throws -> Int { note(type); return 0 }
    func decode(_ type: Int64.Type) throws -> Int64 { note(type); return 0 }

    private func note(_ type: Any.Type) {
        items = Primitive.schema(type) ?? APISchema.any
        currentIndex += 1
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        currentIndex += 1
        items = APISchema.anyObject
        return KeyedDecodingContainer(KeyedRecorder<NestedKey>())
    }

    func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        currentIndex += 1
        items = .object(["type": .string("array")])
        return UnkeyedRecorder()
    }

    func superDecoder() throws -> any Decoder { SchemaRecorder() }
}

/// Records one value's schema; `decodeNil` (asked by `Optional`) makes it nullable.
private final class SingleValueRecorder: SingleValueDecodingContainer {
    var codingPath: [any CodingKey] = []
    var schema: JSONValue = APISchema.any
    var nullable = false

    func decodeNil() -> Bool {
        nullable = true
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try SchemaDerivation.record(type)
        self.schema = schema
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool { note(type); return false }
    func decode(_ type: String.Type) throws -> String { note(type); return "" }
    func decode(_ type: Double.Type) throws -> Double { note(type); return 0 }
    func decode(_ type: Float.Type) throws -> Float { note(type); return 0 }
    func decode(_ type: Int.Type) throws -> Int { note(type); return 0 }
    func decode(_ type: Int8.Type) throws -> Int8 { note(type); return 0 }
    func decode(_ type: Int16.Type) throws -> Int16 { note(type); return 0 }
    func decode(_ type: Int32.Type) throws -> Int32 { note(type); return 0 }
    func decode(_ type: Int64.Type) throws -> Int64 { note(type); return 0 }
    func decode(_ type: UInt.Type) throws -> UInt { note(type); return 0 }
    func decode(_ type: UInt8.Type) throws -> UInt8 { note(type); return 0 }
    func decode(_ type: UInt16.Type) throws -> UInt16 { note(type); return 0 }
    func decode(_ type: UInt32.Type) throws -> UInt32 { note(type); return 0 }
    func decode(_ type: UInt64.Type) throws -> UInt64 { note(type); return 0 }

    private func note(_ type: Any.Type) { schema = Primitive.schema(type) ?? APISchema.any }
}
