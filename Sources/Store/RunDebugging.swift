import Foundation

/// How a debug run was asked to run: its breakpoints as written (`NODE[:CONDITION]`,
/// `FROM.PORT->TO.PORT[:CONDITION]`), whether its sinks commit when it finishes, and who controls it.
public struct RunDebugSettings: Sendable, Codable, Equatable {
    public var breakpoints: [String]
    public var commitOnFinish: Bool
    /// The user who started it: the only one whose step, continue and stop it obeys.
    public var controller: String

    public init(breakpoints: [String], commitOnFinish: Bool, controller: String) {
        self.breakpoints = breakpoints
        self.commitOnFinish = commitOnFinish
        self.controller = controller
    }
}

/// A debug run's state as its watchers hear it over the event bus: paused (with the pause's number and where),
/// running on, or a command its controller gave.
public struct RunDebugUpdate: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case paused, running, command }

    public var state: State
    /// The pause's number in the run (paused).
    public var sequence: Int?
    /// Where it paused: a node id or `from.port->to.port` (paused).
    public var point: String?
    /// The breakpoint as written, or "step" (paused).
    public var reason: String?
    /// step, continue or stop (command).
    public var command: String?
    /// Who gave the command (command).
    public var by: String?

    public init(state: State, sequence: Int? = nil, point: String? = nil, reason: String? = nil, command: String? = nil, by: String? = nil) {
        self.state = state
        self.sequence = sequence
        self.point = point
        self.reason = reason
        self.command = command
        self.by = by
    }
}

extension MetadataStore {
    /// Keeps where a debug run is paused (the pause as JSON, written by its worker), or clears it.
    public func setDebugPause(runID: String, _ json: String?) async throws {
        try await transaction { session in
            try await session.execute("UPDATE runs SET debug_pause = $2 WHERE id = $1", .text(runID), .optional(json))
        }
    }

    /// Where a debug run is paused now (JSON), if it is.
    public func debugPause(runID: String) async throws -> String? {
        try await transaction { session in
            try await session.first("SELECT debug_pause FROM runs WHERE id = $1", .text(runID))?.text("debug_pause")
        }
    }
}
