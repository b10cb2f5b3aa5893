import Foundation
import SluiceTestSupport
import Testing
@testable import NodeKit

/// Where pipeline paths may lead on the server: roots are compared canonically, so a root named through a
/// symbolic link (a data directory reached through one) holds its files under either spelling.
@Suite struct FileRootsTests {
    @Test func aRootNamedThroughASymlinkAcceptsBothSpellingsOfItsFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("real/files/a.csv", "x\n")
        try FileManager.default.createSymbolicLink(atPath: dir.file("link"), withDestinationPath: dir.file("real"))
        let roots = FileRoots.confined(to: [dir.file("link/files")])
        #expect(try roots.resolve(dir.file("link/files/a.csv")) == dir.file("link/files/a.csv"))
        #expect(try roots.resolve(dir.file("real/files/a.csv")) == dir.file("real/files/a.csv"))
        #expect(try roots.resolve("a.csv").hasSuffix("/files/a.csv"))
        #expect(roots.contains(dir.file("link/files/new.csv")) && !roots.contains(dir.file("real/other.csv")))
        for outside in ["/etc/passwd", dir.file("link/files/../a.csv"), dir.file("real/other.csv")] {
            #expect(throws: ConfigError.self, "\(outside)") { try roots.resolve(outside) }
        }
    }
}
