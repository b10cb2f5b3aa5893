/// One node output's sample in a run: how many rows crossed it, and its columns and first rows as JSON
/// (`{"columns": [...], "rows": [[...]]}`, written by the worker).
public struct RunSampleRecord: Sendable, Equatable {
    public var node: String
    public var port: String
    public var rowsSeen: Int64
    public var sampleJSON: String

    public init(node: String, port: String, rowsSeen: Int64, sampleJSON: String) {
        self.node = node
        self.port = port
        self.rowsSeen = rowsSeen
        self.sampleJSON = sampleJSON
    }
}

extension MetadataStore {
    /// Keeps a run's samples (in pipeline order), replacing any a previous attempt kept.
    public func saveSamples(runID: String, _ samples: [RunSampleRecord]) async throws {
        try await transaction { session in
            try await session.execute("DELETE FROM run_samples WHERE run_id = $1", .text(runID))
            for (position, sample) in samples.enumerated() {
                try await session.execute("INSERT INTO run_samples (run_id, node, port, position, rows_seen, sample) VALUES ($1, $2, $3, $4, $5, $6)",
                                          .text(runID), .text(sample.node), .text(sample.port), .int(Int64(position)), .int(sample.rowsSeen), .text(sample.sampleJSON))
            }
        }
    }

    /// A run's samples in pipeline order; only `node` (and `port`) when given.
    public func samples(runID: String, node: String? = nil, port: String? = nil) async throws -> [RunSampleRecord] {
        try await transaction { session in
            var sql = "SELECT node, port, rows_seen, sample FROM run_samples WHERE run_id = $1"
            var binds: [SQLValue] = [.text(runID)]
            if let node { binds.append(.text(node)); sql += " AND node = $\(binds.count)" }
            if let port { binds.append(.text(port)); sql += " AND port = $\(binds.count)" }
            return try await session.query(sql + " ORDER BY position", binds).map {
                RunSampleRecord(node: $0.string("node"), port: $0.string("port"), rowsSeen: $0.int("rows_seen") ?? 0, sampleJSON: $0.string("sample"))
            }
        }
    }
}
