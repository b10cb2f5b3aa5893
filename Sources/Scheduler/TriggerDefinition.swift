
/// What a firing does when the pipeline still has a queued or running run.
public enum OverlapPolicy: String, Sendable, CaseIterable {
    case skip, queue
    case cancelPrevious = "cancel-previous"
}

/// What a time trigger does with fire times that passed while no scheduler was running.
public enum MissedPolicy: String, Sendable, CaseIterable {
    case none, latest, all
}

/// A trigger definition problem, naming the field (`settings.schedule`, `rule`, `pipelines[0].pipeline`).
public struct TriggerConfigError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let field: String?

    public init(_ code: String, _ message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// An `invalid_value` error.
    public init(_ message: String, field: String?) { self.init("invalid_value", message, field: field) }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
