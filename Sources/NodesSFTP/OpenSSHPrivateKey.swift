import Crypto
import _CryptoExtras
import Foundation
import NIOCore

/// Reads an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`, what `ssh-keygen` writes): ed25519
/// ECDSA (P-256, P-384, P-521) and RSA (2048 bits or more) keys, with or without a passphrase (bcrypt key
/// derivation, AES in CTR or CBC mode: what ssh-keygen uses).
enum OpenSSHPrivateKey {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The most bcrypt rounds a key may ask for (ssh-keygen's default is 16; each round costs a few milliseconds,
    /// so a hostile key cannot keep the server busy for long).
    static let maximumRounds = 1_000

    static func parse(_ text: String, passphrase: String? = nil) throws -> SSHPrivateKey {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN OPENSSH PRIVATE KEY-----"), let end = lines.firstIndex(of: "-----END OPENSSH PRIVATE KEY-----"), begin < end else {
            if text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN PRIVATE KEY") {
                throw Failure(description: "the key is in PEM form; write it in OpenSSH form (ssh-keygen -p -f KEY rewrites it in place)")
            }
            throw Failure(description: "not an OpenSSH private key (it should start with -----BEGIN OPENSSH PRIVATE KEY-----)")
        }
        guard let data = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else { throw Failure(description: "the key's base64 text is damaged") }
        var buffer = ByteBuffer(bytes: data)
        let magic = Array("openssh-key-v1\0".utf8)
        guard buffer.readBytes(length: magic.count) == magic else { throw Failure(description: "not an openssh-key-v1 key") }
        let cipher = try string(&buffer)
        let kdf = try string(&buffer)
        var kdfOptions = try bytes(&buffer)
        guard let count = buffer.readInteger(as: UInt32.self), count == 1 else { throw Failure(description: "the file must hold exactly one key") }
        _ = try bytes(&buffer) // public key
        var secret = try bytes(&buffer)
        if cipher != "none" {
            guard let passphrase, !passphrase.isEmpty else {
                throw Failure(description: "the key is protected by a passphrase: give it in the connection's passphrase (a secret)")
            }
            secret = ByteBuffer(bytes: try decrypt(secret, cipher: cipher, kdf: kdf, options: &kdfOptions, passphrase: passphrase))
        }
        guard let check1 = secret.readInteger(as: UInt32.self), let check2 = secret.readInteger(as: UInt32.self), check1 == check2 else {
            throw Failure(description: cipher == "none" ? "the key's private part is damaged" : "the passphrase does not open the key")
        }
        let type = try string(&secret)
        switch type {
        case "ssh-ed25519":
            _ = try bytes(&secret)
            let both = try bytes(&secret)
            guard both.readableBytes == 64 else { throw Failure(description: "an ed25519 key's private part has the wrong length") }
            return .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: Data(both.readableBytesView.prefix(32))))
        case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            _ = try bytes(&secret) // curve name
            _ = try bytes(&secret) // public point
            var scalar = Array(try bytes(&secret).readableBytesView)
            while scalar.first == 0, scalar.count > 1 { scalar.removeFirst() }
            func padded(_ size: Int) -> Data { Data(repeating: 0, count: max(0, size - scalar.count)) + Data(scalar) }
            switch type {
            case "ecdsa-sha2-nistp256": return .p256(try P256.Signing.PrivateKey(rawRepresentation: padded(32)))
            case "ecdsa-sha2-nistp384": return .p384(try P384.Signing.PrivateKey(rawRepresentation: padded(48)))
            default: return .p521(try P521.Signing.PrivateKey(rawRepresentation: padded(66)))
            }
        case "ssh-rsa":
            func number() throws -> [UInt8] { Array(try bytes(&secret).readableBytesView.drop { $0 == 0 }) }
            let n = try number(), e = try number(), d = try number()
            _ = try number() // iqmp
            let p = try number(), q = try number()
            guard n.count * 8 >= 2048 else { throw Failure(description: "the RSA key has \(n.count * 8) bits; SSH servers and Sluice want at least 2048 (ssh-keygen -t rsa -b 3072)") }
            do { return .rsa(try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q), n: n, e: e) } catch {
                throw Failure(description: "the RSA key's numbers are not a valid key: \(error)")
            }
        default:
            throw Failure(description: "key type \(type) is not supported; use an ed25519, ECDSA or RSA key (ssh-keygen -t ed25519)")
        }
    }

    /// The private part of a passphrase-protected key, decrypted.
    private static func decrypt(_ secret: ByteBuffer, cipher: String, kdf: String, options: inout ByteBuffer, passphrase: String) throws -> [UInt8] {
        guard kdf == "bcrypt" else { throw Failure(description: "the key's key derivation \(kdf) is not supported (ssh-keygen uses bcrypt)") }
        let keyLength: Int, counterMode: Bool
        switch cipher {
        case "aes128-ctr": (keyLength, counterMode) = (16, true)
        case "aes192-ctr": (keyLength, counterMode) = (24, true)
        case "aes256-ctr": (keyLength, counterMode) = (32, true)
        case "aes128-cbc": (keyLength, counterMode) = (16, false)
        case "aes192-cbc": (keyLength, counterMode) = (24, false)
        case "aes256-cbc": (keyLength, counterMode) = (32, false)
        default: throw Failure(description: "the key's cipher \(cipher) is not supported; rewrite it with ssh-keygen -p -Z aes256-ctr -f KEY")
        }
        let salt = Array(try bytes(&options).readableBytesView)
        guard let rounds = options.readInteger(as: UInt32.self), rounds >= 1 else { throw Failure(description: "the key's bcrypt options are damaged") }
        guard rounds <= maximumRounds else {
            throw Failure(description: "the key asks for \(rounds) bcrypt rounds (at most \(maximumRounds) here); rewrite it with ssh-keygen -p -a 16 -f KEY")
        }
        let material = BcryptPBKDF.derive(passphrase: Array(passphrase.utf8), salt: salt, rounds: Int(rounds), length: keyLength + 16)
        let key = SymmetricKey(data: material[0..<keyLength]), iv = material[keyLength...]
        let encrypted = Array(secret.readableBytesView)
        guard encrypted.count % 16 == 0 else { throw Failure(description: "the key's private part is damaged (not whole AES blocks)") }
        if counterMode {
            return Array(try AES._CTR.decrypt(encrypted, using: key, nonce: AES._CTR.Nonce(nonceBytes: iv)))
        }
        return Array(try AES._CBC.decrypt(encrypted, using: key, iv: AES._CBC.IV(ivBytes: iv), noPadding: true))
    }

    private static func bytes(_ buffer: inout ByteBuffer) throws -> ByteBuffer {
        guard let length = buffer.readInteger(as: UInt32.self), let slice = buffer.readSlice(length: Int(length)) else {
            throw Failure(description: "the key file is truncated")
        }
        return slice
    }

    private static func string(_ buffer: inout ByteBuffer) throws -> String {
        String(buffer: try bytes(&buffer))
    }
}
