import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing
@testable import NodesSFTP

/// File nodes on an `sftp` connection against OpenSSH's sshd on loopback (scripts/sftp-server): password and key
/// logins, the pinned host key, globs, large files both ways, atomic outputs.
@Suite struct SFTPFileTests {
    let dir: TemporaryDirectory
    let server: SFTPTestServer.Server
    let harness: PipelineHarness
    /// A folder of its own on the server, so tests running at once do not meet.
    let folder: String

    init() throws {
        dir = try TemporaryDirectory()
        server = try SFTPTestServer.server
        folder = "t-" + UUID().uuidString.prefix(8).lowercased()
        harness = try PipelineHarness(directory: dir, connectionsYAML: server.connectionYAML("partner") + "\n" + server.connectionYAML("keyed", key: "ed25519")
            + "\n" + server.connectionYAML("ecdsa", key: "ecdsa")
            + "\n" + server.connectionYAML("locked", key: "ed25519_locked") + "\n" + server.connectionYAML("locked_cbc", key: "ecdsa_locked")
            + "\n" + server.connectionYAML("impostor", fingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    }

    func writeCSV(_ path: String, rows: Int) throws {
        let made = try runProcess("/bin/sh", ["-c", "mkdir -p \"$(dirname '\(path)')\" && awk 'BEGIN { print \"id,name,amount\"; for (i = 0; i < \(rows); i++) printf \"%d,customer %d,%d.25\\n\", i, i, i % 100 }' > '\(path)'"])
        #expect(made.status == 0, "\(made.stderr)")
    }

    func same(_ a: String, _ b: String) throws -> Bool { try runProcess("/usr/bin/cmp", ["-s", a, b]).status == 0 }

    func copy(from source: String, to target: String) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: sftp-copy
        nodes:
          - {id: src, type: csv.read, settings: {\(source)}}
          - {id: out, type: csv.write, settings: {\(target)}}
        edges: [{from: src.out, to: out.in}]
        """)
    }

    @Test func passwordLoginWritesAtCommitAndKeyLoginReadsBack() async throws {
        try writeCSV(dir.file("orders.csv"), rows: 1_000)
        let write = try await copy(from: "path: orders.csv", to: "connection: partner, path: \(folder)/out/orders.csv")
        #expect(write.summary.status == .succeeded, "\(write.summary.error ?? "")")
        #expect(try same(dir.file("orders.csv"), server.files + "/\(folder)/out/orders.csv"))
        let left = try FileManager.default.contentsOfDirectory(atPath: server.files + "/\(folder)/out")
        #expect(left == ["orders.csv"], "no temporary file is left: \(left)")

        for connection in ["keyed", "ecdsa", "locked", "locked_cbc"] {
            let read = try await copy(from: "connection: \(connection), path: \"\(folder)/**/*.csv\"", to: "path: back.csv")
            #expect(read.summary.status == .succeeded, "\(connection): \(read.summary.error ?? "")")
            #expect(try same(dir.file("orders.csv"), dir.file("back.csv")), "\(connection)")
        }
    }

    @Test func largeFilesGoBothWaysWhole() async throws {
        try writeCSV(dir.file("big.csv"), rows: 600_000)
        let write = try await copy(from: "path: big.csv", to: "connection: keyed, path: \(folder)/big.csv")
        #expect(write.summary.status == .succeeded, "\(write.summary.error ?? "")")
        #expect(try same(dir.file("big.csv"), server.files + "/\(folder)/big.csv"))
        let read = try await copy(from: "connection: partner, path: \(folder)/big.csv", to: "path: big-back.csv")
        #expect(read.summary.status == .succeeded, "\(read.summary.error ?? "")")
        #expect(try same(dir.file("big.csv"), dir.file("big-back.csv")))
    }

    @Test func aWrongHostKeyIsRefusedNamingTheServersKey() async throws {
        try writeCSV(server.files + "/\(folder)/a.csv", rows: 3)
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: impostor
        nodes:
          - {id: src, type: csv.read, settings: {connection: impostor, path: \(folder)/a.csv}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges: [{from: src.out, to: out.in}]
        """)
        #expect(problems.contains { $0.code == "host_key_mismatch" && $0.message.contains(server.fingerprint) && $0.node == "src" }, "\(problems)")
    }

    @Test func aFailedRunLeavesNoFileAndNoTemporary() async throws {
        try writeCSV(dir.file("big.csv"), rows: 400_000)
        let failing = PipelineHarness(registry: testRegistry, directory: dir, connections: harness.connections)
        let run = try await failing.run("""
        apiVersion: sluice/v1
        name: fails
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv}}
          - {id: boom, type: test.fail, settings: {after: 10}}
          - {id: out, type: csv.write, settings: {connection: partner, path: \(folder)/failed/out.csv}}
        edges: [{from: src.out, to: boom.in}, {from: boom.out, to: out.in}]
        """)
        #expect(run.summary.status == .failed)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: server.files + "/\(folder)/failed")) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    @Test func theConnectionTestLogsInOrSaysWhyNot() async throws {
        let checked = try await SFTPConnector.check(harness.connections.connections["keyed"]!)
        #expect(checked.message.contains("logged in to 127.0.0.1 as \(server.user)"), "\(checked.message)")
        let wrong = try PipelineHarness(directory: dir, connectionsYAML: server.connectionYAML("wrong", extra: "").replacingOccurrences(of: server.password, with: "not the password"))
        let started = ContinuousClock.now
        await #expect { try await SFTPConnector.check(wrong.connections.connections["wrong"]!) } throws: { error in
            (error as? NodeError)?.code == "sftp_login_failed" && "\(error)".contains(server.user)
        }
        #expect(ContinuousClock.now - started < .seconds(15), "a refused login fails at once")
    }

    @Test func keysAreReadOrRefusedWithAReason() throws {
        for kind in ["ed25519", "ecdsa"] {
            #expect(throws: Never.self) { try OpenSSHPrivateKey.parse(try String(contentsOfFile: server.keyPath(kind), encoding: .utf8)) }
        }
        #expect { try OpenSSHPrivateKey.parse(try String(contentsOfFile: server.keyPath("rsa"), encoding: .utf8)) } throws: { error in
            "\(error)".contains("RSA keys are not supported") && "\(error)".contains("ed25519")
        }
        #expect { try OpenSSHPrivateKey.parse("not a key") } throws: { "\($0)".contains("not an OpenSSH private key") }
        // Passphrase-protected keys (aes256-ctr with 16 rounds; aes128-cbc with 8): opened with the passphrase only.
        for kind in ["ed25519_locked", "ecdsa_locked"] {
            let text = try String(contentsOfFile: server.keyPath(kind), encoding: .utf8)
            #expect(throws: Never.self) { try OpenSSHPrivateKey.parse(text, passphrase: server.passphrase) }
            #expect { try OpenSSHPrivateKey.parse(text) } throws: { "\($0)".contains("protected by a passphrase: give it in the connection's passphrase") }
            #expect { try OpenSSHPrivateKey.parse(text, passphrase: "open sesame") } throws: { "\($0)".contains("the passphrase does not open the key") }
        }
    }

    @Test func blowfishStartsFromTheDigitsOfPi() {
        // π = 3.243F6A88 85A308D3 13198A2E 03707344 A4093822 299F31D0 … in hexadecimal.
        #expect(Array(PiWords.blowfish.prefix(6)) == [0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344, 0xA409_3822, 0x299F_31D0])
        #expect(PiWords.blowfish.count == 1042)
        // More words agree with a longer computation (the guard words absorbed the rounding).
        #expect(PiWords.compute(count: 1100).prefix(1042).elementsEqual(PiWords.blowfish))
    }
}
