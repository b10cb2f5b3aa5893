import Crypto
import Foundation
import NIOCore

/// Frames SSH binary packets (RFC 4253 §6): in the clear until the first NEWKEYS, then sealed with AES-GCM as
/// OpenSSH does it (`aes128-gcm@openssh.com`, `aes256-gcm@openssh.com`: the length in the clear but authenticated,
/// a 12-byte nonce whose last 8 bytes count packets).
struct SSHPacketCodec {
    /// The largest packet accepted from the server (OpenSSH sends at most 256 KB); a longer length is hostile.
    static let maximumPacket = 1 << 20

    private var sealing: GCMDirection?
    private var opening: GCMDirection?
    private(set) var sent: UInt32 = 0
    private(set) var received: UInt32 = 0
    /// Bytes sealed and opened since the current keys were taken into use (what a re-key is due by).
    private(set) var volume = 0

    /// A payload as one packet, ready for the socket.
    mutating func seal(_ payload: [UInt8], into out: inout ByteBuffer) {
        defer { sent &+= 1 }
        let block = sealing == nil ? 8 : 16
        // With GCM the length is outside the padded part; in the clear it is inside.
        let lengthInBlock = sealing == nil ? 4 : 0
        var padding = block - (lengthInBlock + 1 + payload.count) % block
        if padding < 4 { padding += block }
        var plain = [UInt8]()
        plain.reserveCapacity(1 + payload.count + padding)
        plain.append(UInt8(padding))
        plain.append(contentsOf: payload)
        plain.append(contentsOf: randomBytes(padding))
        out.writeInteger(UInt32(plain.count))
        volume += plain.count
        guard var key = sealing else {
            out.writeBytes(plain)
            return
        }
        let length = [UInt8(plain.count >> 24), UInt8(truncatingIfNeeded: plain.count >> 16), UInt8(truncatingIfNeeded: plain.count >> 8), UInt8(truncatingIfNeeded: plain.count)]
        // Sealing with a 12-byte nonce made from a counter cannot fail.
        let box = try! AES.GCM.seal(plain, using: key.key, nonce: key.nextNonce(), authenticating: length)
        sealing = key
        out.writeBytes(box.ciphertext)
        out.writeBytes(box.tag)
    }

    /// The next whole packet's payload in `buffer`, or nil when more bytes are needed.
    mutating func open(_ buffer: inout ByteBuffer) throws(SSHError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 5, length <= Self.maximumPacket else { throw .protocolError("a packet of \(length) bytes") }
        let tagLength = opening == nil ? 0 : 16
        guard buffer.readableBytes >= 4 + Int(length) + tagLength else { return nil }
        defer { received &+= 1 }
        volume += Int(length)
        guard var key = opening else {
            buffer.moveReaderIndex(forwardBy: 4)
            var packet = buffer.readSlice(length: Int(length))!
            return try Self.payload(of: &packet)
        }
        guard length % 16 == 0 else { throw .protocolError("a sealed packet of \(length) bytes (not whole blocks)") }
        let aad = buffer.readBytes(length: 4)!
        let nonce = key.nextNonce()
        let plain: Data? = buffer.withUnsafeReadableBytes { bytes in
            let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: UnsafeRawBufferPointer(rebasing: bytes[..<Int(length)]),
                                             tag: UnsafeRawBufferPointer(rebasing: bytes[Int(length)..<(Int(length) + 16)]))
            return box.flatMap { try? AES.GCM.open($0, using: key.key, authenticating: aad) }
        }
        guard let plain else { throw .protocolError("a packet failed its integrity check") }
        opening = key
        buffer.moveReaderIndex(forwardBy: Int(length) + 16)
        var packet = ByteBuffer(bytes: plain)
        return try Self.payload(of: &packet)
    }

    private static func payload(of packet: inout ByteBuffer) throws(SSHError) -> ByteBuffer {
        guard let padding = packet.readInteger(as: UInt8.self), Int(padding) >= 4, Int(padding) <= packet.readableBytes else {
            throw .protocolError("a packet with a wrong padding length")
        }
        return packet.readSlice(length: packet.readableBytes - Int(padding))!
    }

    /// Random padding comes from a pool refilled 4 KB at a time (one call to BoringSSL's generator, not a system call
    /// per byte).
    private var randomPool: [UInt8] = []

    private mutating func randomBytes(_ count: Int) -> [UInt8] {
        if randomPool.count < count { randomPool = SymmetricKey(size: SymmetricKeySize(bitCount: 4096 * 8)).withUnsafeBytes { Array($0) } }
        defer { randomPool.removeLast(count) }
        return Array(randomPool.suffix(count))
    }

    /// Seals what is sent from now on with the new keys (after sending NEWKEYS).
    mutating func startSealing(key: [UInt8], iv: [UInt8], resetCount: Bool) {
        sealing = GCMDirection(key: key, iv: iv)
        volume = 0
        if resetCount { sent = 0 }
    }

    /// Opens what arrives from now on with the new keys (after receiving NEWKEYS).
    mutating func startOpening(key: [UInt8], iv: [UInt8], resetCount: Bool) {
        opening = GCMDirection(key: key, iv: iv)
        if resetCount { received = 0 }
    }

    /// The key length of an AES-GCM cipher name.
    static func keyLength(_ cipher: String) -> Int { cipher.hasPrefix("aes128") ? 16 : 32 }
}

/// One direction's AES-GCM key and nonce: a fixed 4-byte field and an 8-byte invocation counter (RFC 5647 §7.1).
private struct GCMDirection {
    let key: SymmetricKey
    let fixed: [UInt8]
    var counter: UInt64

    init(key: [UInt8], iv: [UInt8]) {
        self.key = SymmetricKey(data: key)
        fixed = Array(iv[0..<4])
        counter = iv[4..<12].reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func nextNonce() -> AES.GCM.Nonce {
        var bytes = fixed
        withUnsafeBytes(of: counter.bigEndian) { bytes.append(contentsOf: $0) }
        counter &+= 1
        return try! AES.GCM.Nonce(data: bytes)
    }
}
