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
            + "\n" + server.connectionYAML("ecdsa", key: "ecdsa") + "\n" + server.connectionYAML("rsa", key: "rsa") + "\n" + server.connectionYAML("rsa_locked", key: "rsa_locked")
            + "\n" + server.connectionYAML("pinned_rsa", key: "ed25519", fingerprint: server.fingerprint(of: "rsa"))
            + "\n" + server.connectionYAML("pinned_ecdsa", fingerprint: server.fingerprint(of: "ecdsa"))
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

        for connection in ["keyed", "ecdsa", "rsa", "rsa_locked", "locked", "locked_cbc"] {
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
        let rsa = try OpenSSHPrivateKey.parse(try String(contentsOfFile: server.keyPath("rsa"), encoding: .utf8))
        #expect(rsa.keyType == "ssh-rsa" && rsa.signatureAlgorithms == ["rsa-sha2-512", "rsa-sha2-256"])
        // The public half Sluice sends is exactly the one ssh-keygen wrote beside the key.
        let published = try String(contentsOfFile: server.keyPath("rsa") + ".pub", encoding: .utf8).split(separator: " ")[1]
        #expect(Data(rsa.publicKeyBlob).base64EncodedString() == String(published))
        #expect { try OpenSSHPrivateKey.parse("not a key") } throws: { "\($0)".contains("not an OpenSSH private key") }
        // Passphrase-protected keys (aes256-ctr with 16 rounds; aes128-cbc with 8): opened with the passphrase only.
        for kind in ["ed25519_locked", "ecdsa_locked", "rsa_locked"] {
            let text = try String(contentsOfFile: server.keyPath(kind), encoding: .utf8)
            #expect(throws: Never.self) { try OpenSSHPrivateKey.parse(text, passphrase: server.passphrase) }
            #expect { try OpenSSHPrivateKey.parse(text) } throws: { "\($0)".contains("protected by a passphrase: give it in the connection's passphrase") }
            #expect { try OpenSSHPrivateKey.parse(text, passphrase: "open sesame") } throws: { "\($0)".contains("the passphrase does not open the key") }
        }
    }

    @Test func aPinnedECDSAOrRSAHostKeyIsFoundAmongTheServersKeys() async throws {
        // The server has ed25519, ECDSA and RSA host keys; the client asks for ed25519 first, then tries the others.
        try writeCSV(server.files + "/\(folder)/a.csv", rows: 50)
        for connection in ["pinned_rsa", "pinned_ecdsa"] {
            let read = try await copy(from: "connection: \(connection), path: \(folder)/a.csv", to: "path: a-\(connection).csv")
            #expect(read.summary.status == .succeeded, "\(connection): \(read.summary.error ?? "")")
            #expect(try same(server.files + "/\(folder)/a.csv", dir.file("a-\(connection).csv")))
        }
        // A pin matching none of them names every key the server showed.
        let wrong = try PipelineHarness(directory: dir, connectionsYAML: server.connectionYAML("wrong", fingerprint: "SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"))
        await #expect { try await SFTPConnector.check(wrong.connections.connections["wrong"]!) } throws: { error in
            let text = "\(error)"
            return (error as? NodeError)?.code == "host_key_mismatch" && text.contains(server.fingerprint) && text.contains(server.fingerprint(of: "rsa"))
                && text.contains(server.fingerprint(of: "ecdsa")) && text.contains("(rsa)")
        }
    }

    @Test func sessionKeysAreRenewedDuringLongTransfers() async throws {
        // The test server renews its keys every 4 MB: a 24 MB file read and written on one connection goes through
        // several key exchanges in both directions and arrives whole.
        try writeCSV(dir.file("big.csv"), rows: 800_000)
        let store = try SFTPConnector.fileStore(harness.connections.connections["rsa"]!, outbound: .unrestricted) as! SFTPFileStore
        let client = try await store.client()
        let upload = try await store.create("\(folder)/renewed.csv", runID: "rekey")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("big.csv")))
        try bytes.withUnsafeBytes { try upload.write($0) }
        try await upload.finish().commit()
        let listed = try await store.list("\(folder)/renewed.csv")
        let input = try await store.open(listed[0])
        var back = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = try await input.read(into: buffer)
            if n == 0 { break }
            back.append(contentsOf: buffer[..<n])
        }
        #expect(back == bytes)
        let exchanges = try await client.keyExchanges()
        #expect(exchanges >= 6, "\(exchanges) key exchanges for \(bytes.count * 2) bytes")
    }

    @Test func filesCopyMovesBytesBetweenStoresAtCommit() async throws {
        try writeCSV(dir.file("drop/2026/orders.csv"), rows: 20_000)
        let binary = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        try FileManager.default.createDirectory(atPath: dir.file("drop/2026/12"), withIntermediateDirectories: true)
        try dir.write("drop/2026/12/blob.bin.gz", binary)
        let up = try await harness.run("""
        apiVersion: sluice/v1
        name: upload
        nodes:
          - {id: copy, type: files.copy, settings: {path: "drop/**", toConnection: rsa, to: "\(folder)/landing/"}}
          - {id: seen, type: log}
        edges: [{from: copy.out, to: seen.in}]
        """)
        #expect(up.summary.status == .succeeded, "\(up.summary.error ?? "")")
        #expect(up.events.messages.filter { $0.contains("copied '") }.count == 2, "\(up.events.messages)")
        #expect(try same(dir.file("drop/2026/orders.csv"), server.files + "/\(folder)/landing/2026/orders.csv"))
        #expect(try same(dir.file("drop/2026/12/blob.bin.gz"), server.files + "/\(folder)/landing/2026/12/blob.bin.gz"))
        let down = try await harness.run("""
        apiVersion: sluice/v1
        name: download
        nodes:
          - {id: copy, type: files.copy, settings: {connection: partner, path: "\(folder)/landing/**/*.gz", to: back/}}
        """)
        #expect(down.summary.status == .succeeded, "\(down.summary.error ?? "")")
        #expect(try same(dir.file("drop/2026/12/blob.bin.gz"), dir.file("back/2026/12/blob.bin.gz")))
        #expect(!dir.exists("back/2026/orders.csv"))

        // A failed run leaves neither the copies nor their temporary files on the server.
        let failing = PipelineHarness(registry: testRegistry, directory: dir, connections: harness.connections)
        let failed = try await failing.run("""
        apiVersion: sluice/v1
        name: fails
        nodes:
          - {id: copy, type: files.copy, settings: {path: "drop/**", toConnection: partner, to: "\(folder)/failed/"}}
          - {id: boom, type: test.fail}
          - {id: seen, type: log}
        edges: [{from: copy.out, to: boom.in}, {from: boom.out, to: seen.in}]
        """)
        #expect(failed.summary.status == .failed)
        var isFolder: ObjCBool = false
        let left = (try? FileManager.default.subpathsOfDirectory(atPath: server.files + "/\(folder)/failed")) ?? []
        let files = left.filter { FileManager.default.fileExists(atPath: server.files + "/\(folder)/failed/" + $0, isDirectory: &isFolder) && !isFolder.boolValue }
        #expect(files.isEmpty, "\(files)")

        // One target file for several sources is a mistake caught before the run.
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: one
        nodes:
          - {id: copy, type: files.copy, settings: {path: "drop/**", to: one.csv}}
        """)
        #expect(problems.contains { $0.field == "to" && $0.message.contains("matches 2 files; end it with '/'") }, "\(problems)")
    }

    @Test func blowfishStartsFromTheDigitsOfPi() {
        // π = 3.243F6A88 85A308D3 13198A2E 03707344 A4093822 299F31D0 … in hexadecimal.
        #expect(Array(PiWords.blowfish.prefix(6)) == [0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344, 0xA409_3822, 0x299F_31D0])
        #expect(PiWords.blowfish.count == 1042)
        // More words agree with a longer computation (the guard words absorbed the rounding).
        #expect(PiWords.compute(count: 1100).prefix(1042).elementsEqual(PiWords.blowfish))
    }
}
