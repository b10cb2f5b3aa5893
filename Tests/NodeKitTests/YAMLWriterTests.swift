import NodeKit
import Testing

/// YAMLWriter's output reads back as the same tree, whatever the text holds.
@Suite struct YAMLWriterTests {
    /// The tree without locations, for comparing.
    func shape(_ setting: Setting) -> Setting {
        switch setting.kind {
        case let .list(items): Setting(.list(items.map(shape)))
        case let .map(entries): Setting(.map(entries.map { Setting.Entry(key: $0.key, keyLocation: nil, value: shape($0.value)) }))
        default: Setting(setting.kind)
        }
    }

    @Test func trickyTextRoundTrips() throws {
        let texts = ["plain", "", " padded ", "a: b", "x #y", "- dash", "true", "NO", "null", "~", "1.5", "007", "[x]", "{y}", "a,b", "line\nbreak",
                     "tab\there", "quote \" and \\ back", "Côte d'Ivoire", "2024-05-01T10:00:00Z", "@at", "*star", "'single'", "%pct", "?q", "emoji 🎉"]
        let rows = Setting(.list(texts.map { text in
            Setting(.map([Setting.Entry(key: "text", keyLocation: nil, value: Setting(.string(text))),
                          Setting.Entry(key: "n", keyLocation: nil, value: Setting(.int(-3))),
                          Setting.Entry(key: "x", keyLocation: nil, value: Setting(.double(2.5))),
                          Setting.Entry(key: "ok", keyLocation: nil, value: Setting(.bool(false))),
                          Setting.Entry(key: "gone", keyLocation: nil, value: Setting(.null))]))
        }))
        let tree = Setting(.map([
            Setting.Entry(key: "pipeline", keyLocation: nil, value: Setting(.string("a b.yaml"))),
            Setting.Entry(key: "tests", keyLocation: nil, value: Setting(.list([Setting(.map([
                Setting.Entry(key: "name", keyLocation: nil, value: Setting(.string("t: 1"))),
                Setting.Entry(key: "rows", keyLocation: nil, value: rows),
                Setting.Entry(key: "every", keyLocation: nil, value: Setting(.list([Setting(.string("amount >= 0")), Setting(.string("a, b"))]))),
                Setting.Entry(key: "empty", keyLocation: nil, value: Setting(.list([]))),
            ]))]))),
        ]))
        let text = YAMLWriter.text(tree)
        let read = try YAMLReader.read(text, file: nil)
        #expect(shape(read) == shape(tree), "\(text)")
    }
}
