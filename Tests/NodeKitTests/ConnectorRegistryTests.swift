import BuiltinNodes
import NodeKit
import Testing

/// Connectors are declared once and found by their connection type and abilities.
struct ConnectorRegistryTests {
    let connectors = BuiltinNodes.connectors

    @Test func everyConnectorHasOneTypeAndDeclaresItsSecretsAmongItsFields() {
        let types = connectors.specs.map(\.type)
        #expect(Set(types).count == types.count, "each connection type is registered once")
        for spec in connectors.specs {
            #expect(connectors.connector(spec.type)?.spec.type == spec.type)
            #expect(spec.secretFields.isSubset(of: Set(spec.fields.map(\.name))), "\(spec.type): every secret is a declared field")
        }
        #expect(connectors.connector("no-such-type") == nil)
    }

    @Test func abilitiesAreFoundByWhatAConnectorOffers() {
        let discovering = connectors.types(offering: (any SchemaDiscovering.Type).self)
        let probing = connectors.types(offering: (any WatermarkProbing.Type).self)
        let mail = connectors.types(offering: (any MailboxWatching.Type).self)
        #expect(Set(discovering) == ["sqlite", "postgres"] && Set(probing) == ["sqlite", "postgres"] && mail == ["imap"])
        #expect(connectors.connector("imap", offering: (any SchemaDiscovering.Type).self) == nil)
        #expect(connectors.connector("sqlite", offering: (any WatermarkProbing.Type).self) != nil)
        #expect(connectors.describeTypes(offering: (any WatermarkProbing.Type).self) == "a sqlite or postgres connection")
        #expect(connectors.describeTypes(offering: (any MailboxWatching.Type).self) == "an imap connection")
        #expect(Set(connectors.types(offering: (any FileStoring.Type).self)) == ["http", "s3", "sftp"])
    }
}
