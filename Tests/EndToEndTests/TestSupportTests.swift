import Foundation
import SluiceTestSupport
import Testing

/// The harness's own promises: a child it spawns inherits none of this process's descriptors (a daemon
/// holding another test's pipe would make that test's read or wait last as long as the daemon), and
/// captured output cannot block the child that writes it.
@Suite struct TestSupportTests {
    @Test func spawnedChildrenInheritOnlyStandardOutputAndError() throws {
        let held = Pipe()
        let writeEnd = held.fileHandleForWriting.fileDescriptor
        let result = PostgresTestServer.spawn("/bin/sh", ["-c", "ls /proc/$$/fd"])
        let descriptors = Set(result.output.split(separator: "\n").compactMap { Int32($0) })
        #expect(result.status == 0, "\(result.output)")
        #expect(!descriptors.contains(writeEnd), "the child inherited this process's pipe (fd \(writeEnd)): \(descriptors.sorted())")
        #expect(descriptors.isSubset(of: [0, 1, 2]), "the child inherited \(descriptors.sorted())")
    }

    @Test func aChildFillingStderrDoesNotBlockWhileStdoutIsRead() throws {
        // 256 KB on stderr before anything on stdout: more than a pipe holds, so output read through two
        // pipes one after the other would wait for each other forever.
        let result = try runProcess("/bin/sh", ["-c", "head -c 262144 /dev/zero | tr '\\0' x >&2; echo out"])
        #expect(result.status == 0)
        #expect(result.stdout == "out\n")
        #expect(result.stderr.utf8.count == 262_144)
    }
}
