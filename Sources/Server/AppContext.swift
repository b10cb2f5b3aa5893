import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every route: Hummingbird's core storage, the client's address (for rate limits and the audit log)
/// and the WebSocket handler slot the events route fills.
public struct AppContext: RequestContext, RemoteAddressRequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by the events route when it accepts a WebSocket upgrade.
    public let webSocket = WebSocketHandlerReference<AppContext>()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Pipeline documents can be large; 16 MB keeps a mistaken upload from exhausting memory.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}
