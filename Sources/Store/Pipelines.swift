/// What a user may do with one pipeline. Each role includes the ones before it.
public enum ShareRole: String, Sendable, Codable, CaseIterable, Comparable {
    case viewer, runner, editor, owner

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: ShareRole, b: ShareRole) -> Bool { a.rank < b.rank }
}

/// A pipeline's identity and head revision.
public struct PipelineRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var currentRevision: Int64
    public var createdBy: String
    public var createdAt: Int64
    public var updatedAt: Int64

    init(row: SQLRow) throws {
        id = try row.required("id")
        name = try row.required("name")
        currentRevision = try row.requiredInt("current_revision")
        createdBy = try row.required("created_by")
        createdAt = try row.requiredInt("created_at")
        updatedAt = try row.requiredInt("updated_at")
    }
}

/// One immutable saved version of a pipeline document.
public struct PipelineRevision: Sendable, Equatable {
    public var pipelineID: String
    public var revision: Int64
    public var document: String
    public var author: String
    public var message: String
    public var createdAt: Int64
    /// Everyone whose changes it holds: the editors of a live working copy saved together, else the author.
    public var contributors: [String]

    init(row: SQLRow) throws {
        pipelineID = try row.required("pipeline_id")
        revision = try row.requiredInt("revision")
        document = try row.required("document")
        author = try row.required("author")
        message = try row.required("message")
        createdAt = try row.requiredInt("created_at")
        contributors = row.text("contributors").map { $0.split(separator: ",").map(String.init) } ?? [author]
    }
}

/// A user's share of a pipeline.
public struct PipelineShare: Sendable, Equatable {
    public var userID: String
    public var userName: String
    public var role: ShareRole

    public init(userID: String, userName: String, role: ShareRole) {
        self.userID = userID
        self.userName = userName
        self.role = role
    }
}

/// Saving on a revision that is no longer the head.
public struct StaleRevision: Error, Sendable {
    public let current: Int64
}

extension MetadataStore {
    static let pipelineColumns = "id, name, current_revision, created_by, created_at, updated_at"
    static let revisionColumns = "pipeline_id, revision, document, author, message, created_at, contributors"

    /// Creates a pipeline with revision 1; the creator becomes its owner.
    public func createPipeline(name: String, document: String, message: String, author: User) async throws -> PipelineRecord {
        let id = Self.newID(), at = now()
        return try await transaction { session in
            let rows = try await session.query("INSERT INTO pipelines (id, name, current_revision, created_by, created_at, updated_at) VALUES ($1, $2, 1, $3, $4, $4) RETURNING \(Self.pipelineColumns)",
                                               .text(id), .text(name), .text(author.name), .int(at))
            try await session.execute("INSERT INTO pipeline_revisions (pipeline_id, revision, document, author, message, created_at) VALUES ($1, 1, $2, $3, $4, $5)",
                                      .text(id), .text(document), .text(author.name), .text(message), .int(at))
            try await session.execute("INSERT INTO pipeline_shares (pipeline_id, user_id, role) VALUES ($1, $2, 'owner')", .text(id), .text(author.id))
            return try PipelineRecord(row: rows[0])
        }
    }

    /// Saves a new revision on top of `base`; throws `StaleRevision` when someone saved in between. A save of a live
    /// working copy (`liveThrough`) also drops the operations it holds (those up to `liveThrough`, which must still be
    /// the last one: else `LiveSequenceMoved`) and lists their authors as the revision's contributors.
    public func savePipeline(id: String, name: String, document: String, message: String, author: User, base: Int64,
                             liveThrough: Int64? = nil) async throws -> PipelineRecord? {
        let at = now()
        return try await transaction { session in
            let updated = try await session.query("""
                UPDATE pipelines SET current_revision = current_revision + 1, name = $3, updated_at = $4
                WHERE id = $1 AND current_revision = $2 RETURNING \(Self.pipelineColumns)
                """, .text(id), .int(base), .text(name), .int(at))
            guard let row = updated.first else {
                guard let current = try await session.first("SELECT current_revision FROM pipelines WHERE id = $1", .text(id)) else { return nil }
                throw StaleRevision(current: current.int("current_revision") ?? 0)
            }
            let record = try PipelineRecord(row: row)
            var contributors: SQLValue = .null
            if let through = liveThrough {
                guard let seq = try await session.first("SELECT live_seq FROM pipelines WHERE id = $1", .text(id))?.int("live_seq"), seq == through else {
                    throw LiveSequenceMoved()
                }
                let authors = try await session.query("SELECT DISTINCT author FROM pipeline_live_ops WHERE pipeline_id = $1 AND seq <= $2", .text(id), .int(through))
                    .map { $0.string("author") }
                contributors = .text(([author.name] + authors.filter { $0 != author.name }.sorted()).joined(separator: ","))
                try await session.execute("DELETE FROM pipeline_live_ops WHERE pipeline_id = $1 AND seq <= $2", .text(id), .int(through))
            }
            try await session.execute("INSERT INTO pipeline_revisions (pipeline_id, revision, document, author, message, created_at, contributors) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                      .text(id), .int(record.currentRevision), .text(document), .text(author.name), .text(message), .int(at), contributors)
            return record
        }
    }

    /// Pipelines the user can see: all for admins, shared ones for members.
    public func pipelines(visibleTo user: User) async throws -> [(PipelineRecord, ShareRole)] {
        try await transaction { session in
            if user.role == .admin {
                return try await session.query("SELECT \(Self.pipelineColumns) FROM pipelines ORDER BY name").map { (try PipelineRecord(row: $0), ShareRole.owner) }
            }
            return try await session.query("""
                SELECT p.id, p.name, p.current_revision, p.created_by, p.created_at, p.updated_at, s.role FROM pipelines p
                JOIN pipeline_shares s ON s.pipeline_id = p.id WHERE s.user_id = $1 ORDER BY p.name
                """, .text(user.id)).map { (try PipelineRecord(row: $0), ShareRole(rawValue: $0.string("role")) ?? .viewer) }
        }
    }

    public func pipeline(id: String) async throws -> PipelineRecord? {
        try await transaction { try await $0.first("SELECT \(Self.pipelineColumns) FROM pipelines WHERE id = $1", .text(id)).map({ try PipelineRecord(row: $0) }) }
    }

    /// The user's role on a pipeline (admins own everything); nil when not shared with them.
    public func role(of user: User, on pipelineID: String) async throws -> ShareRole? {
        if user.role == .admin { return .owner }
        return try await transaction { session in
            try await session.first("SELECT role FROM pipeline_shares WHERE pipeline_id = $1 AND user_id = $2", .text(pipelineID), .text(user.id))
                .flatMap { ShareRole(rawValue: $0.string("role")) }
        }
    }

    public func deletePipeline(id: String) async throws -> Bool {
        try await transaction { try await $0.query("DELETE FROM pipelines WHERE id = $1 RETURNING id", .text(id)).count == 1 }
    }

    public func revisions(pipelineID: String) async throws -> [PipelineRevision] {
        try await transaction { try await $0.query("SELECT \(Self.revisionColumns) FROM pipeline_revisions WHERE pipeline_id = $1 ORDER BY revision DESC", .text(pipelineID)).map({ try PipelineRevision(row: $0) }) }
    }

    public func revision(pipelineID: String, revision: Int64) async throws -> PipelineRevision? {
        try await transaction {
            try await $0.first("SELECT \(Self.revisionColumns) FROM pipeline_revisions WHERE pipeline_id = $1 AND revision = $2", .text(pipelineID), .int(revision)).map({ try PipelineRevision(row: $0) })
        }
    }

    public func shares(pipelineID: String) async throws -> [PipelineShare] {
        try await transaction { session in
            try await session.query("SELECT s.user_id, u.name, s.role FROM pipeline_shares s JOIN users u ON u.id = s.user_id WHERE s.pipeline_id = $1 ORDER BY u.name", .text(pipelineID))
                .map { PipelineShare(userID: $0.string("user_id"), userName: $0.string("name"), role: ShareRole(rawValue: $0.string("role")) ?? .viewer) }
        }
    }

    /// Grants or changes a share; `nil` removes it.
    public func setShare(pipelineID: String, userID: String, role: ShareRole?) async throws {
        try await transaction { session in
            if let role {
                try await session.execute("INSERT INTO pipeline_shares (pipeline_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (pipeline_id, user_id) DO UPDATE SET role = excluded.role",
                                          .text(pipelineID), .text(userID), .text(role.rawValue))
            } else {
                try await session.execute("DELETE FROM pipeline_shares WHERE pipeline_id = $1 AND user_id = $2", .text(pipelineID), .text(userID))
            }
        }
    }
}
