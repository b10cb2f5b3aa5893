import Foundation
import SluiceTestSupport
import Testing

/// `sluice serve --tls-cert --tls-key` serves the API over HTTPS only, with a certificate the harness makes.
@Suite struct TLSServeTests {
    @Test(.timeLimit(.minutes(2)))
    func theServerAnswersOverHTTPSAndNotOverPlainHTTP() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let made = try runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                                       "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem")])
        #expect(made.status == 0, "\(made.stderr)")
        let server = try ChildProcess(SluiceBinary.path, ["serve", "--listen", "127.0.0.1:0", "--workers", "0", "--data-dir", dir.file("data"),
                                                          "--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem")], logPath: dir.file("serve.log"))
        defer { Task { _ = await server.stop() } }
        #expect(await server.waitForOutput("Sluice is running at "), "\(server.output)")
        let base = try #require(server.output.firstMatch(of: /running at (https:\/\/[0-9.:]+)/).map { String($0.1) }, "\(server.output)")
        let secure = try runProcess("/usr/bin/curl", ["-s", "--max-time", "10", "--cacert", dir.file("cert.pem"), base + "/healthz"])
        #expect(secure.status == 0 && secure.stdout.contains("ok"), "\(secure.stdout) \(secure.stderr)")
        let plain = try runProcess("/usr/bin/curl", ["-s", "--max-time", "10", base.replacingOccurrences(of: "https://", with: "http://") + "/healthz"])
        #expect(!plain.stdout.contains("ok"), "plain HTTP was answered: \(plain.stdout)")
        // A key that does not exist stops the server at start, naming the file.
        let broken = try runProcess(SluiceBinary.path, ["serve", "--listen", "127.0.0.1:0", "--workers", "0", "--data-dir", dir.file("data2"),
                                                        "--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("missing.pem")])
        #expect(broken.status != 0 && (broken.stderr + broken.stdout).contains("missing.pem"), "\(broken.stderr)")
    }
}
