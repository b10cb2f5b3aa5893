import Crypto
import Foundation

/// The algorithms a key exchange agreed on.
struct SSHAlgorithms: Equatable {
    let kex: String
    let hostKey: String
    let cipherToServer: String
    let cipherFromServer: String
    /// The host key algorithms the server offered (it has a key for each).
    let serverHostKeys: [String]
    /// Both sides offered strict key exchange (OpenSSH's answer to the Terrapin attack): nothing but key exchange
    /// messages during the first exchange, and packet numbers start again at each NEWKEYS.
    let strict: Bool
}

/// The client's side of SSH key exchange (RFC 4253 §7–8): its KEXINIT, the negotiation, an ephemeral elliptic-curve
/// Diffie-Hellman (curve25519-sha256, RFC 8731; ecdh-sha2-nistp*, RFC 5656), the exchange hash and key derivation.
enum SSHKeyExchange {
    static let kexAlgorithms = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521"]
    static let strictMarker = "kex-strict-c-v00@openssh.com", serverStrictMarker = "kex-strict-s-v00@openssh.com"
    /// AES-GCM only (RFC 5647 as OpenSSH does it): every OpenSSH since 6.2 offers it, and it needs no separate MAC.
    static let ciphers = ["aes256-gcm@openssh.com", "aes128-gcm@openssh.com"]
    /// Ignored with an AEAD cipher, but the lists must not be empty.
    static let macs = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"]

    /// The client's KEXINIT payload.
    static func clientKexInit(initial: Bool, _ offer: SSHCredentials) -> [UInt8] {
        var w = SSHWriter(SSHMessage.kexInit)
        var cookie = SystemRandomNumberGenerator()
        for _ in 0..<2 { withUnsafeBytes(of: cookie.next() as UInt64) { w.raw($0) } }
        w.nameList(offer.kexAlgorithms + (initial ? [strictMarker] : []))
        w.nameList(offer.hostKeyAlgorithms)
        w.nameList(offer.ciphers); w.nameList(offer.ciphers)
        w.nameList(macs); w.nameList(macs)
        w.nameList(["none"]); w.nameList(["none"])
        w.nameList([]); w.nameList([])
        w.bool(false)
        w.uint32(0)
        return w.bytes
    }

    /// The first algorithm of the client's lists that the server's KEXINIT also offers, for each kind.
    static func negotiate(client: [UInt8], server: [UInt8], strictAlready: Bool) throws(SSHError) -> SSHAlgorithms {
        func lists(_ payload: [UInt8]) throws(SSHError) -> [[String]] {
            var r = SSHReader(payload)
            _ = try r.byte()
            for _ in 0..<16 { _ = try r.byte() }
            var result: [[String]] = []
            for _ in 0..<10 { result.append(try r.nameList()) }
            return result
        }
        let ours = try lists(client), theirs = try lists(server)
        func pick(_ index: Int, _ what: String) throws(SSHError) -> String {
            guard let found = ours[index].first(where: { $0 != strictMarker && theirs[index].contains($0) }) else {
                throw .unsupported("the server offers no \(what) Sluice supports (it offers \(theirs[index].joined(separator: ", ")); Sluice: \(ours[index].filter { $0 != strictMarker }.joined(separator: ", ")))")
            }
            return found
        }
        return SSHAlgorithms(kex: try pick(0, "key exchange"), hostKey: try pick(1, "host key type"), cipherToServer: try pick(2, "cipher"),
                             cipherFromServer: try pick(3, "cipher"), serverHostKeys: theirs[1], strict: strictAlready || (ours[0].contains(strictMarker) && theirs[0].contains(serverStrictMarker)))
    }

    /// The keys of one direction derived from the shared secret (RFC 4253 §7.2): `ivLetter` "A"/"B", `keyLetter` "C"/"D".
    static func derive(_ letter: Character, secret: [UInt8], hash: [UInt8], sessionID: [UInt8], length: Int, kex: String) -> [UInt8] {
        var k = SSHWriter()
        k.mpint(unsigned: secret)
        var output = SSHEphemeral.hash(kex, k.bytes + hash + [UInt8(ascii: letter.unicodeScalars.first!)] + sessionID)
        while output.count < length { output += SSHEphemeral.hash(kex, k.bytes + hash + output) }
        return Array(output.prefix(length))
    }
}

/// One side's ephemeral key of an elliptic-curve Diffie-Hellman exchange.
enum SSHEphemeral {
    case x25519(Curve25519.KeyAgreement.PrivateKey)
    case p256(P256.KeyAgreement.PrivateKey)
    case p384(P384.KeyAgreement.PrivateKey)
    case p521(P521.KeyAgreement.PrivateKey)

    init(kex: String) {
        switch kex {
        case "ecdh-sha2-nistp256": self = .p256(.init())
        case "ecdh-sha2-nistp384": self = .p384(.init())
        case "ecdh-sha2-nistp521": self = .p521(.init())
        default: self = .x25519(.init())
        }
    }

    var publicBytes: [UInt8] {
        switch self {
        case let .x25519(key): Array(key.publicKey.rawRepresentation)
        case let .p256(key): Array(key.publicKey.x963Representation)
        case let .p384(key): Array(key.publicKey.x963Representation)
        case let .p521(key): Array(key.publicKey.x963Representation)
        }
    }

    /// The shared secret with the server's public value, as unsigned big-endian bytes.
    func sharedSecret(_ peer: [UInt8]) throws -> [UInt8] {
        let secret: SharedSecret
        switch self {
        case let .x25519(key): secret = try key.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: peer))
        case let .p256(key): secret = try key.sharedSecretFromKeyAgreement(with: .init(x963Representation: peer))
        case let .p384(key): secret = try key.sharedSecretFromKeyAgreement(with: .init(x963Representation: peer))
        case let .p521(key): secret = try key.sharedSecretFromKeyAgreement(with: .init(x963Representation: peer))
        }
        return secret.withUnsafeBytes { Array($0) }
    }

    /// The exchange's hash function: SHA-256 for curve25519 and P-256, SHA-384 for P-384, SHA-512 for P-521.
    static func hash(_ kex: String, _ data: [UInt8]) -> [UInt8] {
        switch kex {
        case "ecdh-sha2-nistp384": Array(SHA384.hash(data: data))
        case "ecdh-sha2-nistp521": Array(SHA512.hash(data: data))
        default: Array(SHA256.hash(data: data))
        }
    }
}
