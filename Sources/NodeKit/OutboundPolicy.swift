import Foundation

/// Which hosts a server-run pipeline or trigger may send requests to.
///
/// By default the server refuses loopback (its own API and local services), link-local addresses (cloud
/// metadata endpoints such as 169.254.169.254), the unspecified address and the metadata store's host, so that
/// a member cannot reach them from inside a pipeline. An admin allows them with `--allow-private-network`.
/// Names are resolved and every address is checked; redirects must be checked again by the caller.
public struct OutboundPolicy: Sendable {
    /// Whether loopback, link-local and the store's host may be reached.
    public let allowsPrivateNetwork: Bool
    /// Addresses never reachable unless private networks are allowed (the metadata store's host).
    public let forbiddenAddresses: Set<String>

    public init(allowsPrivateNetwork: Bool, forbiddenHosts: [String] = []) {
        self.allowsPrivateNetwork = allowsPrivateNetwork
        forbiddenAddresses = Set(forbiddenHosts.flatMap(Self.addresses))
    }

    /// Everything may be reached (standalone runs, tests).
    public static let unrestricted = OutboundPolicy(allowsPrivateNetwork: true)

    /// Refuses a URL whose host is, or resolves to, an address this policy keeps out (`address_forbidden`).
    public func check(url text: String) throws(ConfigError) {
        guard !allowsPrivateNetwork else { return }
        guard let url = URL(string: text), let host = url.host, !host.isEmpty else {
            throw ConfigError(code: "invalid_value", message: "'\(text)' is not an absolute URL")
        }
        for address in Self.addresses(host) where Self.isPrivate(address) || forbiddenAddresses.contains(address) {
            throw ConfigError(code: "address_forbidden",
                              message: "\(host) is \(address), a loopback, link-local or metadata-store address; an admin can allow such addresses with --allow-private-network")
        }
    }

    /// Loopback, link-local, unspecified (IPv4, IPv6, and IPv4 mapped into IPv6).
    static func isPrivate(_ address: String) -> Bool {
        let lowered = address.lowercased()
        let v4 = lowered.hasPrefix("::ffff:") ? String(lowered.dropFirst(7)) : lowered
        if v4.contains(".") {
            let octets = v4.split(separator: ".").compactMap { Int($0) }
            guard octets.count == 4 else { return false }
            return octets[0] == 127 || octets[0] == 0 || (octets[0] == 169 && octets[1] == 254)
        }
        return lowered == "::1" || lowered == "::" || lowered.hasPrefix("fe8") || lowered.hasPrefix("fe9") || lowered.hasPrefix("fea") || lowered.hasPrefix("feb")
    }

    /// The numeric addresses a host name resolves to (the name itself, lowercased, when it does not resolve).
    public static func addresses(_ host: String) -> [String] {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(bare, nil, &hints, &list) == 0, let first = list else { return [bare.lowercased()] }
        defer { freeaddrinfo(list) }
        var result: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !result.contains(text) { result.append(text) }
            }
            cursor = entry.pointee.ai_next
        }
        return result
    }
}
