public import Store

/// Who asks a service for something: the signed-in user and the address they call from (for the audit log).
/// Every service method that reads or changes shared things takes one, and authorizes against it.
public struct Caller: Sendable {
    public let user: User
    /// The client's IP address, when known.
    public let address: String?

    public init(_ user: User, address: String? = nil) {
        self.user = user
        self.address = address
    }

    var name: String { user.name }
    var isAdmin: Bool { user.role == .admin }

    /// Admin-only operations check this themselves, so no caller can reach them by another path.
    func requireAdmin() throws {
        guard isAdmin else { throw ServiceError.forbidden("only admins can do this") }
    }
}
