import Foundation
import NodeKit
import SluiceTestSupport
import Testing

/// Globs as every file store matches them, and the local store's `**` walk.
@Suite struct GlobPatternTests {
    @Test(arguments: [
        ("landing/*.csv", "landing/a.csv", true),
        ("landing/*.csv", "landing/2026/a.csv", false),
        ("landing/**/*.csv", "landing/a.csv", true),
        ("landing/**/*.csv", "landing/2026/01/a.csv", true),
        ("landing/**/*.csv", "landing/.hidden/a.csv", false),
        ("landing/*.csv", "landing/.a.csv.sluice-run.tmp", false),
        ("landing/*.csv", "landing/.a.csv", false),
        ("a?c.csv", "abc.csv", true),
        ("a?c.csv", "a/c.csv", false),
        ("file[0-9].csv", "file7.csv", true),
        ("file[!0-9].csv", "file7.csv", false),
        ("file[!0-9].csv", "fileX.csv", true),
        ("file[z-a].csv", "filez.csv", false),
        ("weird[.csv", "weird[.csv", true),
        ("*", "", true),
        ("**", "a/b/c", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
    ])
    func matches(pattern: String, path: String, expected: Bool) {
        #expect(GlobPattern(pattern).matches(path) == expected, "\(pattern) ~ \(path)")
    }

    @Test func literalPrefixIsTheDirectoryBeforeTheFirstWildcard() {
        #expect(GlobPattern("landing/2026/*.csv").literalPrefix == "landing/2026/")
        #expect(GlobPattern("landing/20*/x.csv").literalPrefix == "landing/")
        #expect(GlobPattern("*.csv").literalPrefix == "")
        #expect(GlobPattern("exact.csv").literalPrefix == "exact.csv")
    }

    @Test func theLocalStoreWalksDoubleStarsAndSkipsHiddenFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for name in ["logs/a.csv", "logs/2026/01/b.csv", "logs/2026/c.txt", "logs/.tmp/d.csv", "logs/2026/.e.csv"] {
            try FileManager.default.createDirectory(atPath: dir.file((name as NSString).deletingLastPathComponent), withIntermediateDirectories: true)
            try dir.write(name, "x\n1\n")
        }
        let found = LocalFileStore.expand(dir.file("logs/**/*.csv")).map { String($0.dropFirst(dir.path.count + 1)) }
        #expect(found == ["logs/2026/01/b.csv", "logs/a.csv"])
        #expect(LocalFileStore.expand(dir.file("logs/*.csv")).count == 1)
        #expect(LocalFileStore.expand(dir.file("logs")).isEmpty, "a directory is not a file")
    }
}
