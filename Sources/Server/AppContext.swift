import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the client's address (for rate limits and the audit log).
public struct AppContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Pipeline documents can be large; 16 MB keeps a mistaken upload from exhausting memory.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}
