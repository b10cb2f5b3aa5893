import Foundation
import SluiceTestSupport
import Testing

/// The harness's own promises: a child it spawns inherits none of this process's descriptors (a daemon
/// holding another test's pipe would make that test's read or wait last as long as the daemon), and
/// captured output cannot block the child that writes it; a test server that cannot start is an error the
/// tests needing it throw, not a crash of the whole test process.
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

    @Test func aServerScriptThatPrintsChatterButWritesNoPortsFails() throws {
        // What happened on a machine without Dovecot: the script installed it mid-run, apt-get's output (with
        // numbers in it) went to the same stream, and the ports were parsed from that. Now only the ports file counts.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let started = startTestServer("Fake", script: "/bin/sh", arguments: ["-c", "echo 'debconf: delaying package configuration'; echo 32893 43283"],
                                      portsFile: dir.file("ports"), portCount: 2)
        let error = try #require(started.failure)
        #expect(error.description.contains("could not start Fake") && error.description.contains("missing"), "\(error)")
        #expect(error.description.contains("debconf"), "the script's output is quoted for the reader: \(error)")
    }

    @Test func aServerScriptThatFailsIsReportedWithItsOutput() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let started = startTestServer("Fake", script: "/bin/sh", arguments: ["-c", "echo '1 2' > \(dir.file("ports")); echo 'Dovecot is not installed' >&2; exit 1"],
                                      portsFile: dir.file("ports"), portCount: 2)
        let error = try #require(started.failure)
        #expect(error.status == 1 && error.description.contains("Dovecot is not installed"), "\(error)")
    }

    @Test func aServerScriptsPortsFileIsRead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let started = startTestServer("Fake", script: "/bin/sh", arguments: ["-c", "echo noise 99999; echo '4321 8765' > \(dir.file("ports"))"],
                                      portsFile: dir.file("ports"), portCount: 2)
        #expect(try started.get() == [4321, 8765])
    }
}

private extension Result {
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
