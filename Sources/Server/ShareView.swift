/// Who a pipeline or a connection is shared with, and in which role (the roles differ per resource).
struct ShareView: Codable {
    var userId: String
    var userName: String
    var role: String
}
