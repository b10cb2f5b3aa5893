/// What a user may do with a stored connection: `user` names it in pipelines (and tests and browses it),
/// `editor` also changes its settings and secrets, `owner` (its creator, and every admin) also deletes it
/// and shares it.
public enum ConnectionRole: String, Sendable, Codable, CaseIterable, Comparable {
    case user, editor, owner

    public static func < (lhs: ConnectionRole, rhs: ConnectionRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One user a connection is shared with.
public struct ConnectionShare: Sendable, Equatable {
    public var userID: String
    public var userName: String
    public var role: ConnectionRole
}

extension MetadataStore {
    /// The user's role on every connection they may use, by connection id (admins: owner of all; nil user:
    /// only the connections shared with everyone). Connections missing from the result are not theirs to use.
    public func connectionRoles(of user: User?) async throws -> [String: ConnectionRole] {
        try await transaction { session in
            let rows = try await session.query("""
                SELECT c.id, c.created_by, c.shared_with_everyone, s.role FROM connections c
                LEFT JOIN connection_shares s ON s.connection_id = c.id AND s.user_id = $1
                """, .text(user?.id ?? ""))
            var roles: [String: ConnectionRole] = [:]
            for row in rows {
                var best: ConnectionRole?
                if let user, user.role == .admin || row.string("created_by") == user.name { best = .owner }
                if let shared = row.text("role").flatMap(ConnectionRole.init(rawValue:)) { best = max(best ?? shared, shared) }
                if row.int("shared_with_everyone") == 1 { best = max(best ?? .user, .user) }
                if let best { roles[row.string("id")] = best }
            }
            return roles
        }
    }

    /// The user's role on one connection, or nil when it is not theirs to use.
    public func connectionRole(of user: User, on connectionID: String) async throws -> ConnectionRole? {
        try await connectionRoles(of: user)[connectionID]
    }

    /// Who a connection is shared with (its owner is not listed: that is `created_by`).
    public func connectionShares(connectionID: String) async throws -> [ConnectionShare] {
        try await transaction { session in
            try await session.query("""
                SELECT s.user_id, u.name, s.role FROM connection_shares s JOIN users u ON u.id = s.user_id
                WHERE s.connection_id = $1 ORDER BY u.name
                """, .text(connectionID))
                .map { ConnectionShare(userID: $0.string("user_id"), userName: $0.string("name"), role: try ConnectionRole.decode($0.string("role"))) }
        }
    }

    /// Grants or changes a share (`user` or `editor`); nil removes it.
    public func setConnectionShare(connectionID: String, userID: String, role: ConnectionRole?) async throws {
        try await transaction { session in
            if let role {
                try await session.execute("""
                    INSERT INTO connection_shares (connection_id, user_id, role) VALUES ($1, $2, $3)
                    ON CONFLICT (connection_id, user_id) DO UPDATE SET role = excluded.role
                    """, .text(connectionID), .text(userID), .text(role.rawValue))
            } else {
                try await session.execute("DELETE FROM connection_shares WHERE connection_id = $1 AND user_id = $2", .text(connectionID), .text(userID))
            }
        }
    }

    /// Shares a connection with every user (as `user`), or stops doing so.
    public func setSharedWithEveryone(connectionID: String, _ shared: Bool) async throws {
        try await transaction { try await $0.execute("UPDATE connections SET shared_with_everyone = $2 WHERE id = $1", .text(connectionID), .int(shared ? 1 : 0)) }
    }
}

extension ConnectionRole {
    /// A stored role; an unknown one is a corrupt row, not a silent default.
    static func decode(_ text: String) throws -> ConnectionRole {
        guard let role = ConnectionRole(rawValue: text) else { throw StoreError(.internalError, "unknown connection role '\(text)' in the store") }
        return role
    }
}
