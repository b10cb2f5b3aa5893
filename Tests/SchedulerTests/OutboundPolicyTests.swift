import NodeKit
import Store
import Testing
@testable import Scheduler

/// The server's outbound policy: HTTP polls cannot reach loopback, link-local (cloud metadata) or the store's
/// host unless an admin allows private networks, and each refusal names the address.
@Suite struct OutboundPolicyTests {
    static let strict = OutboundPolicy(allowsPrivateNetwork: false, forbiddenHosts: ["192.0.2.10"])

    @Test(arguments: ["http://127.0.0.1:8080/api/v1/users", "http://localhost/", "http://[::1]:9/", "http://169.254.169.254/latest/meta-data/",
                      "http://0.0.0.0:80/", "http://[::ffff:127.0.0.1]/", "http://192.0.2.10:5432/"])
    func privateAndStoreAddressesAreRefused(url: String) {
        #expect(throws: ConfigError.self) { try Self.strict.check(url: url) }
        #expect(throws: Never.self) { try OutboundPolicy(allowsPrivateNetwork: true).check(url: url) }
    }

    @Test(arguments: ["http://192.0.2.1/feed", "https://203.0.113.7:8443/x", "http://10.1.2.3/internal"])
    func otherAddressesAreAllowed(url: String) throws {
        try Self.strict.check(url: url)
    }

    @Test func anHTTPPollOfTheServersOwnAddressFailsWithTheReason() async throws {
        let (read, _) = try TriggerKinds.read(HTTPPollTrigger.self, .object(["url": .string("http://127.0.0.1:1/api/v1/users"), "timeoutSeconds": .int(2)]))
        let settings = try #require(read as? HTTPPollTrigger)
        let probes = TriggerProbes(outbound: Self.strict)
        do {
            _ = try await HTTPPoll.poll(settings, state: .object([:]), probes: probes)
            Issue.record("the poll was sent")
        } catch let error as TriggerConfigError {
            #expect(error.code == "address_forbidden" && error.message.contains("127.0.0.1") && error.field == "settings.url", "\(error)")
        }
    }
}
