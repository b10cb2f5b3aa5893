/// The expression language's scalar functions as editors and docs list them: name, summary and how many
/// arguments each takes.
public enum ExpressionFunctions {
    /// One function.
    public struct Entry: Sendable, Hashable {
        public let name: String
        public let summary: String
        public let minArguments: Int
        public let maxArguments: Int
    }

    /// Every scalar function, by name.
    public static var all: [Entry] {
        FunctionDefinition.all.values.sorted { $0.name < $1.name }
            .map { Entry(name: $0.name, summary: $0.summary, minArguments: $0.arity.lowerBound, maxArguments: $0.arity.upperBound) }
    }
}
