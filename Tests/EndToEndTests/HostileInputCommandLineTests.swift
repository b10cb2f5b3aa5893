import Foundation
import SluiceTestSupport
import Testing

/// The `sluice` binary given hostile input by a user: each document or file gives exit code 2 with a clear
/// message, under a 1 GB address-space limit (so memory stays bounded), instead of a crash or a hang.
@Suite struct HostileInputCommandLineTests {
    static func pipeline(node: String) -> String {
        """
        apiVersion: sluice/v1
        name: hostile
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          \(node)
        edges:
          - {from: src.out, to: f.in}
        """
    }

    static let documents: [(name: String, text: String, message: String)] = [
        ("deep expression", pipeline(node: "- {id: f, type: filter, settings: {where: \"\(String(repeating: "(", count: 20_000))1\(String(repeating: ")", count: 20_000))\"}}"),
         "nests more than 256 levels"),
        ("chained NOTs", pipeline(node: "- {id: f, type: filter, settings: {where: \"\(String(repeating: "NOT ", count: 20_000))true\"}}"), "nests more than 256 levels"),
        ("alias bomb", {
            var text = "apiVersion: sluice/v1\nname: bomb\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            for level in 1...9 { text += "x\(level): &x\(level) [" + Array(repeating: "*x\(level - 1)", count: 9).joined(separator: ", ") + "]\n" }
            return text
        }(), "YAML aliases are not supported"),
        ("deep nesting", "apiVersion: sluice/v1\nname: deep\nx: " + String(repeating: "[", count: 100_000) + "\n", "nested more than 128 levels"),
        ("no line end", """
            apiVersion: sluice/v1
            name: zero
            nodes:
              - {id: src, type: csv.read, settings: {path: /dev/zero, header: false, schema: {column_1: string}, inferRows: 1}}
              - {id: f, type: jsonl.write, settings: {path: out.jsonl}}
            edges:
              - {from: src.out, to: f.in}
            """, "longer than 64 MiB"),
    ]

    @Test(arguments: documents)
    func hostileDocumentsExitWithTwoAndAClearMessage(name: String, text: String, message: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", "a\n1\n")
        try dir.write("p.yaml", text)
        for command in ["validate", "run"] {
            let result = try runProcess("/usr/bin/prlimit", ["--as=1000000000", SluiceBinary.path, command, dir.file("p.yaml")], in: dir.path)
            #expect(result.status == 2, "\(name), sluice \(command): exit \(result.status): \(result.stderr.prefix(300))")
            #expect((result.stdout + result.stderr).contains(message), "\(name), sluice \(command): \((result.stdout + result.stderr).prefix(300))")
        }
    }
}
