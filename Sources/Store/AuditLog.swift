/// One audited action: who did what to which thing, from where.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var id: String
    public var at: Int64
    public var actor: String?
    public var action: String
    public var target: String?
    public var detail: String?
    public var address: String?
}

extension MetadataStore {
    /// Records an action (login, login_failed, vault_unlock, share, secret_change, delete, …). Never pass secret values.
    public func audit(actor: String?, action: String, target: String? = nil, detail: String? = nil, address: String? = nil) async throws {
        let at = now()
        try await transaction { session in
            try await session.execute("INSERT INTO audit_log (id, at, actor, action, target, detail, address) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                      .text(Self.newID()), .int(at), .optional(actor), .text(action), .optional(target), .optional(detail), .optional(address))
        }
    }

    /// The newest entries first, optionally only one action.
    public func auditLog(limit: Int, before: Int64? = nil, action: String? = nil) async throws -> [AuditEntry] {
        try await transaction { session in
            try await session.query("""
                SELECT id, at, actor, action, target, detail, address FROM audit_log
                WHERE at < $1 AND ($2 = '' OR action = $2) ORDER BY at DESC, id DESC LIMIT $3
                """, .int(before ?? Int64.max), .text(action ?? ""), .int(Int64(limit)))
                .map { AuditEntry(id: $0.string("id"), at: $0.int("at") ?? 0, actor: $0.text("actor"), action: $0.string("action"),
                                  target: $0.text("target"), detail: $0.text("detail"), address: $0.text("address")) }
        }
    }
}
