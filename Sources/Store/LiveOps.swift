/// One operation of a live working copy, as the server ordered it: its place (`seq`), the editor tab that sent
/// it (`client`, and that tab's own count `clientOp`), who sent it and the operation itself (JSON text).
public struct LiveOpRecord: Sendable, Equatable {
    public var seq: Int64
    public var client: String
    public var clientOp: Int64
    public var author: String
    public var op: String
    public var at: Int64

    public init(seq: Int64, client: String, clientOp: Int64, author: String, op: String, at: Int64) {
        self.seq = seq
        self.client = client
        self.clientOp = clientOp
        self.author = author
        self.op = op
        self.at = at
    }

    init(row: SQLRow) throws {
        seq = try row.requiredInt("seq")
        client = try row.required("client")
        clientOp = try row.requiredInt("client_op")
        author = try row.required("author")
        op = try row.required("op")
        at = try row.requiredInt("at")
    }
}

/// Another process appended to (or saved) the same working copy first: reload it and try again.
public struct LiveSequenceMoved: Error, Sendable {
    public init() {}
}

extension MetadataStore {
    /// A pipeline's live working copy: its current revision, the operations since that were saved (in order) and
    /// the last operation's number. Read in one transaction, so the three agree.
    public func liveWorkingCopy(pipelineID: String) async throws -> (revision: PipelineRevision, ops: [LiveOpRecord], seq: Int64)? {
        try await transaction { session in
            guard let pipeline = try await session.first("SELECT current_revision, live_seq FROM pipelines WHERE id = $1", .text(pipelineID)),
                  let current = pipeline.int("current_revision"), let seq = pipeline.int("live_seq"),
                  let revision = try await session.first("SELECT \(Self.revisionColumns) FROM pipeline_revisions WHERE pipeline_id = $1 AND revision = $2",
                                                         .text(pipelineID), .int(current)) else { return nil }
            let ops = try await session.query("SELECT seq, client, client_op, author, op, at FROM pipeline_live_ops WHERE pipeline_id = $1 ORDER BY seq",
                                              .text(pipelineID)).map { try LiveOpRecord(row: $0) }
            return (try PipelineRevision(row: revision), ops, seq)
        }
    }

    /// Appends the next operation (`record.seq` must be one more than the last; else `LiveSequenceMoved`).
    public func appendLiveOp(pipelineID: String, _ record: LiveOpRecord) async throws {
        try await transaction { session in
            let moved = try await session.query("UPDATE pipelines SET live_seq = $2 WHERE id = $1 AND live_seq = $3 RETURNING id",
                                                .text(pipelineID), .int(record.seq), .int(record.seq - 1))
            guard !moved.isEmpty else { throw LiveSequenceMoved() }
            try await session.execute("INSERT INTO pipeline_live_ops (pipeline_id, seq, client, client_op, author, op, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                      .text(pipelineID), .int(record.seq), .text(record.client), .int(record.clientOp), .text(record.author), .text(record.op), .int(record.at))
        }
    }
}
