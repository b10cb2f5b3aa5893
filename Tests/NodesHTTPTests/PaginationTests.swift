import Foundation
@testable import NodesHTTP
import NodeKit
import Testing

/// The pager, the JSON parser, flattening and inference, pure (no network).
@Suite struct PaginationTests {
    func pagination(_ yaml: String) throws -> Pagination {
        try Pagination(setting: try YAMLReader.read(yaml, file: nil), field: "pagination")
    }

    @Test func pageStyleCountsPagesAndStopsOnAShortPageOrTheTotal() throws {
        var pager = Pager(try pagination("{style: page, sizeParam: per_page, pageSize: 10, totalPath: meta.total}"), maxPages: 100)
        #expect(pager.first == ["page": "1", "per_page": "10"])
        let document = try JSONTreeParser.parse(Array(#"{"meta": {"total": 25}}"#.utf8))
        #expect(pager.next(records: 10, document: document, linkHeader: nil, currentURL: "http://x/items") == .query(["page": "2", "per_page": "10"]))
        #expect(pager.next(records: 10, document: document, linkHeader: nil, currentURL: "http://x/items") == .query(["page": "3", "per_page": "10"]))
        #expect(pager.next(records: 5, document: document, linkHeader: nil, currentURL: "http://x/items") == nil)
        var unsized = Pager(try pagination("{style: page}"), maxPages: 100)
        #expect(unsized.next(records: 3, document: nil, linkHeader: nil, currentURL: "http://x") == .query(["page": "2"]))
        #expect(unsized.next(records: 0, document: nil, linkHeader: nil, currentURL: "http://x") == nil)
    }

    @Test func offsetCursorLinkAndNextURLStyles() throws {
        var offset = Pager(try pagination("{style: offset, pageSize: 2}"), maxPages: 100)
        #expect(offset.first == ["offset": "0", "limit": "2"])
        #expect(offset.next(records: 2, document: nil, linkHeader: nil, currentURL: "u") == .query(["offset": "2", "limit": "2"]))
        #expect(offset.next(records: 1, document: nil, linkHeader: nil, currentURL: "u") == nil)

        var cursor = Pager(try pagination("{style: cursor, cursorPath: meta.next, cursorParam: after}"), maxPages: 100)
        let withNext = try JSONTreeParser.parse(Array(#"{"meta": {"next": "abc"}}"#.utf8))
        #expect(cursor.next(records: 5, document: withNext, linkHeader: nil, currentURL: "u") == .query(["after": "abc"]))
        // The same cursor twice would loop forever: it ends the read.
        #expect(cursor.next(records: 5, document: withNext, linkHeader: nil, currentURL: "u") == nil)

        var link = Pager(try pagination("link"), maxPages: 100)
        #expect(link.next(records: 5, document: nil, linkHeader: #"<https://api.x/v1/a?page=1>; rel="first", </v1/a?page=3>; rel="next""#,
                          currentURL: "https://api.x/v1/a?page=2") == .url("https://api.x/v1/a?page=3"))
        #expect(link.next(records: 5, document: nil, linkHeader: #"<https://api.x/v1/a?page=1>; rel="prev""#, currentURL: "https://api.x/v1/a") == nil)

        var next = Pager(try pagination("{style: nextUrl, nextUrlPath: links.next}"), maxPages: 2)
        let page = try JSONTreeParser.parse(Array(#"{"links": {"next": "https://api.x/p2"}}"#.utf8))
        #expect(next.next(records: 1, document: page, linkHeader: nil, currentURL: "https://api.x/p1") == .url("https://api.x/p2"))
        #expect(next.next(records: 1, document: page, linkHeader: nil, currentURL: "https://api.x/p2") == nil)
        #expect(next.stoppedAtLimit, "maxPages stopped the read while a next page was announced")
    }

    @Test func paginationSettingsAreCheckedPerStyle() {
        #expect(throws: ConfigError.self) { try pagination("{style: cursor}") }
        #expect(throws: ConfigError.self) { try pagination("{style: page, cursorPath: x}") }
        #expect(throws: ConfigError.self) { try pagination("{style: sideways}") }
    }

    @Test func theParserKeepsOrderDecodesEscapesAndRefusesHostileNesting() throws {
        let tree = try JSONTreeParser.parse(Array(#"{"b": 1, "a": [1.5, true, null, "x\u00e9\ud83d\ude00\n"], "big": 12345678901234}"#.utf8))
        guard case let .object(members) = tree else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "big"])
        #expect(tree["a"] == .array([.double(1.5), .bool(true), .null, .string("xé😀\n")]))
        #expect(tree["big"] == .int(12_345_678_901_234))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONTreeParser.Failure.self) { try JSONTreeParser.parse(Array(deep.utf8)) }
        #expect(throws: JSONTreeParser.Failure.self) { try JSONTreeParser.parse(Array(#"{"a": 1,}"#.utf8)) }
        #expect(throws: JSONTreeParser.Failure.self) { try JSONTreeParser.parse(Array(#"{"a": "open"#.utf8)) }
    }

    @Test func nestedObjectsFlattenToTheConfiguredDepthAndTypesWiden() throws {
        let record = try JSONTreeParser.parse(Array(#"{"id": 1, "address": {"city": "Lyon", "geo": {"lat": 45.7}}, "tags": ["a"]}"#.utf8))
        let one = RecordFlattener(depth: 1).flatten(record)
        #expect(one.map(\.name) == ["id", "address_city", "address_geo", "tags"])
        #expect(RecordFlattener(depth: 2).flatten(record).map(\.name) == ["id", "address_city", "address_geo_lat", "tags"])
        #expect(RecordFlattener(depth: 0).flatten(record).map(\.name) == ["id", "address", "tags"])
        var inference = SchemaInference()
        inference.add(one)
        inference.add(RecordFlattener(depth: 1).flatten(try JSONTreeParser.parse(Array(#"{"id": 2.5, "address": null, "extra": true}"#.utf8))))
        let schema = inference.schema(declared: nil)
        #expect(schema.fields.map(\.name) == ["id", "address_city", "address_geo", "tags", "extra"])
        #expect(schema.fields.map(\.type) == [.float64, .string, .json, .json, .bool])
    }

    @Test func templatesEscapeValuesForWhereTheyGo() throws {
        let url = try TextTemplate("/v1/customers/{{name}}", escaping: .url)
        #expect(url.render(["name": "a b/../c?x=1"]) == "/v1/customers/a%20b%2F..%2Fc%3Fx%3D1")
        let json = try TextTemplate(#"{"email": "{{email}}", "vip": {{vip}}}"#, escaping: .json)
        #expect(json.render(["email": "a\"b\\c", "vip": true]) == #"{"email": "a\"b\\c", "vip": true}"#)
        #expect(url.names == ["name"])
        #expect(TextTemplate.variables(in: "{{#vip}}{{{raw}}}{{/vip}}{{! note }}") == ["vip", "raw"])
    }
}
