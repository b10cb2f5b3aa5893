@testable import Scheduler
import Store
import Testing

/// The declared fields of each trigger kind (forms, docs) are exactly what its parser accepts.
@Suite struct TriggerKindFieldsTests {
    @Test(arguments: TriggerKind.allCases)
    func declaredFieldsMatchTheParser(kind: TriggerKind) throws {
        var settings: [String: JSONValue] = ["zz_unknown": .int(1)]
        for field in kind.fields where field.isRequired { settings[field.name] = .string(field.example ?? "x") }
        if kind == .watermark { settings["table"] = .string("t"); settings["column"] = .string("c") }
        do {
            _ = try TriggerSettings.parse(kind: kind, .object(settings))
            Issue.record("an unknown setting was accepted")
        } catch {
            #expect(error.code == "unknown_key")
            let accepted = error.message.components(separatedBy: "this kind accepts: ").last?.components(separatedBy: ", ") ?? []
            #expect(accepted.sorted() == kind.fields.map(\.name).sorted(), "\(kind): \(error.message)")
        }
    }
}
