import Store

/// Who a pipeline or a connection is shared with, and in which role (the roles differ per resource).
struct ShareView: APIView {
    var userId: String
    var userName: String
    var role: String

    init(_ share: PipelineShare) { userId = share.userID; userName = share.userName; role = share.role.rawValue }
    init(_ share: ConnectionShare) { userId = share.userID; userName = share.userName; role = share.role.rawValue }
}
