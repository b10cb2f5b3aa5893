import Crypto
import _CryptoExtras
import Foundation

/// PostgreSQL's MD5 password answer: `md5` + md5hex(md5hex(password + user) + salt).
enum PostgresAuthentication {
    static func md5(user: String, password: String, salt: [UInt8]) -> String {
        let inner = hex(Insecure.MD5.hash(data: Array((password + user).utf8)))
        return "md5" + hex(Insecure.MD5.hash(data: Array(inner.utf8) + salt))
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The client side of SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL uses it: no channel binding, the user
/// name left empty (the server takes it from the startup message).
final class SCRAMClient {
    private let password: String
    private let clientNonce: String
    private var authMessage = ""
    private var saltedPassword: [UInt8] = []

    init(password: String) {
        self.password = password
        clientNonce = Data((0..<18).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    private var clientFirstBare: String { "n=,r=\(clientNonce)" }
    var clientFirstMessage: String { "n,," + clientFirstBare }

    /// The answer to the server's first message (`r=…,s=…,i=…`), with the client proof.
    func clientFinalMessage(serverFirst: String) throws -> String {
        let fields = Self.fields(serverFirst)
        guard let nonce = fields["r"], nonce.hasPrefix(clientNonce), let saltText = fields["s"], let salt = Data(base64Encoded: saltText),
              let iterations = fields["i"].flatMap(Int.init), iterations > 0 else {
            throw PostgresWireError.protocolViolation("SCRAM server-first message '\(serverFirst)'")
        }
        saltedPassword = Array(try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt), using: .sha256,
                                                                   outputByteCount: 32, unsafeUncheckedRounds: iterations)
            .withUnsafeBytes { Array($0) })
        let withoutProof = "c=biws,r=\(nonce)"
        authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof
        let clientKey = Self.hmac(saltedPassword, "Client Key")
        let storedKey = Array(SHA256.hash(data: clientKey))
        let signature = Self.hmac(storedKey, authMessage)
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        return withoutProof + ",p=" + Data(proof).base64EncodedString()
    }

    /// Whether the server proved it knows the password too (`v=…`).
    func verify(serverFinal: String) -> Bool {
        guard let signature = Self.fields(serverFinal)["v"], !saltedPassword.isEmpty else { return false }
        let serverKey = Self.hmac(saltedPassword, "Server Key")
        return Data(Self.hmac(serverKey, authMessage)).base64EncodedString() == signature
    }

    private static func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
    }

    private static func fields(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in message.split(separator: ",") {
            guard let equals = part.firstIndex(of: "=") else { continue }
            result[String(part[..<equals])] = String(part[part.index(after: equals)...])
        }
        return result
    }
}
