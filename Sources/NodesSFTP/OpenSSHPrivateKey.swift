import Crypto
import Foundation
import NIOCore
import NIOSSH

/// Reads an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`, what `ssh-keygen` writes): ed25519
/// and ECDSA (P-256, P-384, P-521) keys without a passphrase. A passphrase-protected or RSA key is refused with
/// what to do instead (swift-nio-ssh, the SSH implementation, signs with ed25519 and ECDSA keys only).
enum OpenSSHPrivateKey {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> NIOSSHPrivateKey {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN OPENSSH PRIVATE KEY-----"), let end = lines.firstIndex(of: "-----END OPENSSH PRIVATE KEY-----"), begin < end else {
            if text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN PRIVATE KEY") {
                throw Failure(description: "the key is in PEM form; write it in OpenSSH form (ssh-keygen -p -f KEY rewrites it) and use an ed25519 or ECDSA key")
            }
            throw Failure(description: "not an OpenSSH private key (it should start with -----BEGIN OPENSSH PRIVATE KEY-----)")
        }
        guard let data = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else { throw Failure(description: "the key's base64 text is damaged") }
        var buffer = ByteBuffer(bytes: data)
        let magic = Array("openssh-key-v1\0".utf8)
        guard buffer.readBytes(length: magic.count) == magic else { throw Failure(description: "not an openssh-key-v1 key") }
        let cipher = try string(&buffer)
        _ = try bytes(&buffer) // kdf name
        _ = try bytes(&buffer) // kdf options
        guard cipher == "none" else {
            throw Failure(description: "the key is protected by a passphrase; store a copy without one in the connection (it is kept in the server's vault): ssh-keygen -p -N '' -f COPY")
        }
        guard let count = buffer.readInteger(as: UInt32.self), count == 1 else { throw Failure(description: "the file must hold exactly one key") }
        _ = try bytes(&buffer) // public key
        var secret = try bytes(&buffer)
        guard let check1 = secret.readInteger(as: UInt32.self), let check2 = secret.readInteger(as: UInt32.self), check1 == check2 else {
            throw Failure(description: "the key's private part is damaged")
        }
        let type = try string(&secret)
        switch type {
        case "ssh-ed25519":
            _ = try bytes(&secret)
            let both = try bytes(&secret)
            guard both.readableBytes == 64 else { throw Failure(description: "an ed25519 key's private part has the wrong length") }
            return NIOSSHPrivateKey(ed25519Key: try Curve25519.Signing.PrivateKey(rawRepresentation: Data(both.readableBytesView.prefix(32))))
        case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            _ = try bytes(&secret) // curve name
            _ = try bytes(&secret) // public point
            var scalar = Array(try bytes(&secret).readableBytesView)
            while scalar.first == 0, scalar.count > 1 { scalar.removeFirst() }
            func padded(_ size: Int) -> Data { Data(repeating: 0, count: max(0, size - scalar.count)) + Data(scalar) }
            switch type {
            case "ecdsa-sha2-nistp256": return NIOSSHPrivateKey(p256Key: try P256.Signing.PrivateKey(rawRepresentation: padded(32)))
            case "ecdsa-sha2-nistp384": return NIOSSHPrivateKey(p384Key: try P384.Signing.PrivateKey(rawRepresentation: padded(48)))
            default: return NIOSSHPrivateKey(p521Key: try P521.Signing.PrivateKey(rawRepresentation: padded(66)))
            }
        case "ssh-rsa":
            throw Failure(description: "RSA keys are not supported (the SSH implementation signs with ed25519 and ECDSA keys only); make an ed25519 key: ssh-keygen -t ed25519")
        default:
            throw Failure(description: "key type \(type) is not supported; use an ed25519 key (ssh-keygen -t ed25519)")
        }
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
