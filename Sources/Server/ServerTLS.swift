import Foundation
import NIOSSL

/// The certificate and key `sluice serve --tls-cert F --tls-key F` serves HTTPS (and WSS) with.
public struct ServerTLS: Sendable, Hashable {
    /// A PEM file: the server's certificate, then any intermediates.
    public var certificateFile: String
    /// A PEM file with the certificate's private key (keep it 0600).
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The TLS settings for the listener: TLS 1.2 or newer; the files are read now, so a wrong path or a key
    /// that does not match fails at start with the file named.
    func serverConfiguration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw ServerConfigurationError("cannot read the TLS certificate \(certificateFile): \(error)")
        }
        guard !chain.isEmpty else { throw ServerConfigurationError("\(certificateFile) holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw ServerConfigurationError("cannot read the TLS private key \(keyFile): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
