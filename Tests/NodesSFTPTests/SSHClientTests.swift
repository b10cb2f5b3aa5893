import Foundation
import NIOCore
import NodeKit
import SluiceTestSupport
import Testing
@testable import NodesSFTP

/// Sluice's SSH client (`SSHClientHandler` and its parts) against OpenSSH's sshd on loopback (scripts/sftp-server):
/// every algorithm it offers, key re-exchanges it starts itself, and the packet codec on its own.
@Suite struct SSHClientTests {
    let server: SFTPTestServer.Server
    let harness: PipelineHarness
    let folder: String

    init() throws {
        let dir = try TemporaryDirectory()
        server = try SFTPTestServer.server
        folder = "t-" + UUID().uuidString.prefix(8).lowercased()
        harness = try PipelineHarness(directory: dir, connectionsYAML: server.connectionYAML("keyed", key: "ed25519"))
    }

    @Test func everyKeyExchangeCipherAndHostKeyTypeWorksWithOpenSSH() async throws {
        let login = try SFTPConnector.login(harness.connections.connections["keyed"]!)
        let pins = ["ssh-ed25519": server.fingerprint, "ecdsa-sha2-nistp384": server.fingerprint(of: "ecdsa"),
                    "rsa-sha2-512": server.fingerprint(of: "rsa"), "rsa-sha2-256": server.fingerprint(of: "rsa")]
        for kex in SSHKeyExchange.kexAlgorithms {
            for cipher in SSHKeyExchange.ciphers {
                for (hostKey, pin) in pins {
                    var offer = SSHCredentials(user: login.user, password: nil, privateKey: login.privateKey, hostKeyFingerprint: pin)
                    offer.kexAlgorithms = [kex]
                    offer.ciphers = [cipher]
                    offer.hostKeyAlgorithms = [hostKey]
                    let client = try await SFTPClient.connect(login, offer)
                    #expect(try await client.list(".").count >= 0, "\(kex) \(cipher) \(hostKey)")
                }
            }
        }
    }

    @Test func theClientRenewsKeysItselfAfterItsByteLimit() async throws {
        // The test server renews keys every 4 MB; with a client limit of 256 KB the client starts most exchanges.
        let login = try SFTPConnector.login(harness.connections.connections["keyed"]!)
        var offer = SSHCredentials(user: login.user, password: nil, privateKey: login.privateKey, hostKeyFingerprint: login.hostKeyFingerprint)
        offer.rekeyBytes = 256 << 10
        let client = try await SFTPClient.connect(login, offer)
        let bytes = (0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }
        let path = "\(folder)-renewed.bin"
        let output = try await client.open(path, flags: [.write, .create, .truncate])
        for offset in stride(from: 0, to: bytes.count, by: 1 << 16) {
            try await client.write(output, offset: UInt64(offset), data: ByteBuffer(bytes: bytes[offset..<min(offset + (1 << 16), bytes.count)]))
        }
        try await client.close(output)
        let input = try await client.open(path, flags: .read)
        var back: [UInt8] = []
        while true {
            var chunk = try await client.read(input, offset: UInt64(back.count), length: SFTPFileStore.readChunk)
            if chunk.readableBytes == 0 { break }
            back += chunk.readBytes(length: chunk.readableBytes)!
        }
        #expect(back == bytes)
        let exchanges = try await client.keyExchanges()
        #expect(exchanges >= 30, "\(exchanges) key exchanges for 12 MB with a 256 KB limit")
    }

    @Test func sealedPacketsOpenOnlyWhole() throws {
        var sender = SSHPacketCodec(), receiver = SSHPacketCodec()
        let key = Array(repeating: UInt8(7), count: 32), iv = Array(0..<12).map(UInt8.init)
        sender.startSealing(key: key, iv: iv, resetCount: false)
        receiver.startOpening(key: key, iv: iv, resetCount: false)
        var wire = ByteBuffer()
        for size in [0, 1, 15, 16, 1000, 70_000] { sender.seal(Array(repeating: UInt8(size % 251), count: size), into: &wire) }
        for size in [0, 1, 15, 16, 1000, 70_000] {
            let payload = try #require(try receiver.open(&wire))
            #expect(Array(payload.readableBytesView) == Array(repeating: UInt8(size % 251), count: size))
        }
        // One flipped bit fails the integrity check; a hostile length is refused before anything is buffered.
        sender.seal([1, 2, 3], into: &wire)
        wire.setInteger(wire.getInteger(at: wire.readerIndex + 6, as: UInt8.self)! ^ 1, at: wire.readerIndex + 6)
        #expect { _ = try receiver.open(&wire) } throws: { "\($0)".contains("integrity") }
        var huge = ByteBuffer()
        huge.writeInteger(UInt32(200 << 20))
        var fresh = SSHPacketCodec()
        #expect { _ = try fresh.open(&huge) } throws: { "\($0)".contains("a packet of") }
    }
}
