import NIOSSL
import NodeKit

/// The TLS client context of a mail connection (IMAP, SMTP): the system's roots plus an optional CA file, the
/// server's certificate checked unless the connection turns verification off.
enum MailTLS {
    static func context(verifyCertificate: Bool, caFile: String?, for endpoint: any CustomStringConvertible) throws -> NIOSSLContext {
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verifyCertificate ? .fullVerification : .none
            if let caFile { configuration.additionalTrustRoots = [.file(caFile)] }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw NodeError(code: "tls_unavailable", message: "cannot set up TLS for \(endpoint)", cause: "\(error)")
        }
    }
}
