import Crypto
import _CryptoExtras
import Foundation

/// A login key: ed25519, ECDSA (P-256, P-384, P-521) or RSA (signing with rsa-sha2-512 or rsa-sha2-256, the SHA-2
/// signatures OpenSSH accepts since 7.2; never SHA-1).
enum SSHPrivateKey: Sendable {
    case ed25519(Curve25519.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case p521(P521.Signing.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey, n: [UInt8], e: [UInt8])

    /// The key type in the public key blob.
    var keyType: String {
        switch self {
        case .ed25519: "ssh-ed25519"
        case .p256: "ecdsa-sha2-nistp256"
        case .p384: "ecdsa-sha2-nistp384"
        case .p521: "ecdsa-sha2-nistp521"
        case .rsa: "ssh-rsa"
        }
    }

    /// The signature algorithms to offer, best first.
    var signatureAlgorithms: [String] {
        if case .rsa = self { return ["rsa-sha2-512", "rsa-sha2-256"] }
        return [keyType]
    }

    /// The public key in SSH wire form (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4).
    var publicKeyBlob: [UInt8] {
        var w = SSHWriter()
        w.string(keyType)
        switch self {
        case let .ed25519(key): w.string(Array(key.publicKey.rawRepresentation))
        case let .p256(key): w.string("nistp256"); w.string(Array(key.publicKey.x963Representation))
        case let .p384(key): w.string("nistp384"); w.string(Array(key.publicKey.x963Representation))
        case let .p521(key): w.string("nistp521"); w.string(Array(key.publicKey.x963Representation))
        case let .rsa(_, n, e): w.mpint(unsigned: e); w.mpint(unsigned: n)
        }
        return w.bytes
    }

    /// A signature blob over `data` with `algorithm` (one of `signatureAlgorithms`).
    func sign(_ data: [UInt8], algorithm: String) throws -> [UInt8] {
        var w = SSHWriter()
        w.string(algorithm)
        switch self {
        case let .ed25519(key): w.string(Array(try key.signature(for: data)))
        case let .p256(key): w.string(Self.ecdsaBlob(Array(try key.signature(for: data).rawRepresentation)))
        case let .p384(key): w.string(Self.ecdsaBlob(Array(try key.signature(for: data).rawRepresentation)))
        case let .p521(key): w.string(Self.ecdsaBlob(Array(try key.signature(for: data).rawRepresentation)))
        case let .rsa(key, _, _):
            let signature = algorithm == "rsa-sha2-256"
                ? try key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
                : try key.signature(for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
            w.string(Array(signature.rawRepresentation))
        }
        return w.bytes
    }

    /// ECDSA's r‖s as SSH writes it: two mpints.
    private static func ecdsaBlob(_ raw: [UInt8]) -> [UInt8] {
        var w = SSHWriter()
        w.mpint(unsigned: raw[..<(raw.count / 2)])
        w.mpint(unsigned: raw[(raw.count / 2)...])
        return w.bytes
    }
}

/// Checks a server's host key signature over the exchange hash, for the host key types OpenSSH servers offer.
enum SSHHostKey {
    /// The host key algorithms the client accepts, best first.
    static let algorithms = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256"]

    /// The key type an algorithm signs with: `rsa` for both RSA signatures, the algorithm itself otherwise.
    static func family(_ algorithm: String) -> String { algorithm.hasPrefix("rsa-sha2-") ? "rsa" : algorithm.replacingOccurrences(of: "ecdsa-sha2-", with: "ecdsa-").replacingOccurrences(of: "ssh-", with: "") }

    /// `SHA256:` and the unpadded base64 of the key blob's hash: what `ssh-keygen -lf` prints.
    static func fingerprint(_ blob: [UInt8]) -> String {
        "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// Whether `signature` (a signature blob) is the host key `blob`'s signature of `data` with the negotiated algorithm.
    static func verify(blob: [UInt8], signature: [UInt8], data: [UInt8], algorithm: String) throws(SSHError) -> Bool {
        var key = SSHReader(blob)
        var sig = SSHReader(signature)
        let keyType = try key.text()
        let signatureType = try sig.text()
        let raw = try sig.string()
        guard signatureType == algorithm else { throw .protocolError("the host key signed with \(signatureType), not the agreed \(algorithm)") }
        do {
            switch algorithm {
            case "ssh-ed25519":
                guard keyType == algorithm else { break }
                return try Curve25519.Signing.PublicKey(rawRepresentation: try key.string()).isValidSignature(raw, for: data)
            case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
                guard keyType == algorithm else { break }
                _ = try key.string()
                let point = try key.string()
                var parts = SSHReader(raw)
                let r = try parts.unsignedMPInt(), s = try parts.unsignedMPInt()
                func padded(_ size: Int) -> Data? {
                    guard r.count <= size, s.count <= size else { return nil }
                    return Data(repeating: 0, count: size - r.count) + Data(r) + Data(repeating: 0, count: size - s.count) + Data(s)
                }
                switch algorithm {
                case "ecdsa-sha2-nistp256":
                    guard let rs = padded(32) else { return false }
                    return try P256.Signing.PublicKey(x963Representation: point).isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: rs), for: data)
                case "ecdsa-sha2-nistp384":
                    guard let rs = padded(48) else { return false }
                    return try P384.Signing.PublicKey(x963Representation: point).isValidSignature(try P384.Signing.ECDSASignature(rawRepresentation: rs), for: data)
                default:
                    guard let rs = padded(66) else { return false }
                    return try P521.Signing.PublicKey(x963Representation: point).isValidSignature(try P521.Signing.ECDSASignature(rawRepresentation: rs), for: data)
                }
            case "rsa-sha2-256", "rsa-sha2-512":
                guard keyType == "ssh-rsa" else { break }
                let e = try key.unsignedMPInt(), n = try key.unsignedMPInt()
                let publicKey = try _RSA.Signing.PublicKey(n: n, e: e)
                let signature = _RSA.Signing.RSASignature(rawRepresentation: raw)
                return algorithm == "rsa-sha2-256"
                    ? publicKey.isValidSignature(signature, for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
                    : publicKey.isValidSignature(signature, for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
            default: break
            }
        } catch let error as SSHError {
            throw error
        } catch {
            throw .protocolError("the host key or its signature is malformed: \(error)")
        }
        throw .protocolError("a \(keyType) host key cannot sign with \(algorithm)")
    }
}
