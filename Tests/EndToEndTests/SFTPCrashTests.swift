import Foundation
import SluiceTestSupport
import Testing

/// A `sluice run` killed with SIGKILL while it writes to an SFTP server leaves no file at the target: the bytes went
/// to a hidden temporary name, renamed only at commit.
@Suite struct SFTPCrashTests {
    @Test func killedMidWriteLeavesNoFinalFile() async throws {
        let server = try SFTPTestServer.server
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let folder = "crash-" + UUID().uuidString.prefix(8).lowercased()
        let made = try runProcess("/bin/sh", ["-c", "awk 'BEGIN { print \"id,name,amount\"; for (i = 0; i < 3000000; i++) printf \"%d,customer %d,%d.25\\n\", i, i, i % 100 }' > '\(dir.file("big.csv"))'"])
        #expect(made.status == 0)
        try dir.write("connections.yaml", server.connectionYAML("partner", key: "ed25519"))
        try dir.write("upload.yaml", """
        apiVersion: sluice/v1
        name: upload
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv}}
          - {id: out, type: csv.write, settings: {connection: partner, path: \(folder)/big.csv}}
        edges: [{from: src.out, to: out.in}]
        """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
        process.arguments = ["run", "upload.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let remote = server.files + "/" + folder
        // Wait until the hidden temporary file on the server holds data, then kill the run outright.
        var sawTemporary = false
        for _ in 0..<400 where process.isRunning {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: remote)) ?? []
            if let temporary = names.first(where: { $0.hasPrefix(".big.csv.sluice-") }),
               let size = try? FileManager.default.attributesOfItem(atPath: remote + "/" + temporary)[.size] as? Int, size > 1 << 20 {
                sawTemporary = true
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(sawTemporary, "the run wrote to a temporary name first")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "killed mid-write, not finished")
        #expect(!FileManager.default.fileExists(atPath: remote + "/big.csv"), "no file at the target")
    }
}
