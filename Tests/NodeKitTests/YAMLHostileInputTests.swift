import Testing
@testable import NodeKit

/// Hostile documents are refused before they can exhaust memory or the stack; JSON text with surrogate
/// escapes reads as JSON does.
@Suite struct YAMLHostileInputTests {
    /// "Billion laughs": each level repeats the previous one nine times (390 bytes expand to ~10^9 nodes).
    static let aliasBomb: String = {
        var lines = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"]
        var previous = "a"
        for name in names {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
            previous = name
        }
        return lines.joined(separator: "\n")
    }()

    @Test func anAliasBombIsRefusedAtTheSizeOfItsText() throws {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try YAMLReader.read(Self.aliasBomb, file: "bomb.yaml")
            Issue.record("the alias bomb was expanded")
        } catch {
            #expect(error.code == "yaml_alias", "\(error)")
        }
        #expect(clock.now - started < .seconds(5))
    }

    @Test func aSmallAliasStillReads() throws {
        let setting = try YAMLReader.read("base: &b {x: 1}\ncopy: *b\n", file: nil)
        #expect(setting["copy"]?["x"] != nil)
    }

    @Test(arguments: [
        ("flow", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)),
        ("json objects", String(repeating: "{\"a\":", count: 50_000) + "1" + String(repeating: "}", count: 50_000)),
        ("block", (0..<400).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"),
    ])
    func deepNestingIsRefused(name: String, text: String) {
        do {
            _ = try YAMLReader.read(text, file: "deep.yaml")
            Issue.record("\(name) nesting was accepted")
        } catch {
            #expect(error.code == "document_too_deep", "\(name): \(error)")
        }
    }

    @Test func bracketsInsideQuotesAndCommentsDoNotCount() throws {
        let text = "a: \"\(String(repeating: "[", count: 500))\"\nb: '\(String(repeating: "{", count: 500))'\n# \(String(repeating: "[", count: 500))\nc: it's [1]\n"
        let setting = try YAMLReader.read(text, file: nil)
        #expect(setting["c"] != nil && setting["a"]?.scalarText?.count == 500)
    }

    @Test func jsonSurrogatePairEscapesRead() throws {
        let setting = try YAMLReader.read(#"{"name": "rocket \ud83d\ude80 \\ud83d", "plain": "\u00e9"}"#, file: nil)
        #expect(setting["name"]?.scalarText == "rocket 🚀 \\ud83d")
        #expect(setting["plain"]?.scalarText == "é")
    }
}
