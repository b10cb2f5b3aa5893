import Foundation

/// Builds an SSH message (RFC 4251 §5): bytes, big-endian integers, length-prefixed strings, mpints, name-lists.
struct SSHWriter {
    private(set) var bytes: [UInt8] = []

    init(_ message: UInt8? = nil) {
        if let message { bytes.append(message) }
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func uint32(_ value: UInt32) {
        bytes.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }

    mutating func string<Bytes: Collection<UInt8>>(_ value: Bytes) {
        uint32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) { string(Array(value.utf8)) }
    mutating func nameList(_ names: [String]) { string(names.joined(separator: ",")) }
    mutating func raw<Bytes: Sequence<UInt8>>(_ value: Bytes) { bytes.append(contentsOf: value) }

    /// An unsigned big-endian number as an mpint: no leading zero bytes, one added when the top bit is set.
    mutating func mpint<Bytes: Collection<UInt8>>(unsigned value: Bytes) {
        var digits = Array(value.drop { $0 == 0 })
        if let first = digits.first, first & 0x80 != 0 { digits.insert(0, at: 0) }
        string(digits)
    }
}

/// Reads an SSH message; every read past the end throws (a short or malformed message from the server).
struct SSHReader {
    private let bytes: [UInt8]
    private(set) var index: Int

    init<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        self.bytes = Array(bytes)
        index = 0
    }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() throws(SSHError) -> UInt8 {
        guard index < bytes.count else { throw .protocolError("a message ended early") }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func bool() throws(SSHError) -> Bool { try byte() != 0 }

    mutating func uint32() throws(SSHError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw .protocolError("a message ended early") }
        defer { index += 4 }
        return UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    mutating func string() throws(SSHError) -> [UInt8] {
        let length = Int(try uint32())
        guard bytes.count - index >= length else { throw .protocolError("a message ended early") }
        defer { index += length }
        return Array(bytes[index..<(index + length)])
    }

    mutating func text() throws(SSHError) -> String { String(decoding: try string(), as: UTF8.self) }
    mutating func nameList() throws(SSHError) -> [String] { try text().split(separator: ",").map(String.init) }

    /// An mpint that must be non-negative, as unsigned big-endian bytes without leading zeros.
    mutating func unsignedMPInt() throws(SSHError) -> [UInt8] {
        let value = try string()
        if let first = value.first, first & 0x80 != 0 { throw .protocolError("a negative number where a positive one belongs") }
        return Array(value.drop { $0 == 0 })
    }

    mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return Array(bytes[index...])
    }
}

/// What can go wrong on an SSH connection, before it is turned into a node error with the host and user.
enum SSHError: Error, CustomStringConvertible {
    case protocolError(String)
    case disconnected(String)
    /// The server's host key (`algorithm`, fingerprint `seen`) is not the pinned one; it also offered `offered`.
    case hostKeyMismatch(seen: String, algorithm: String, offered: [String])
    case loginRefused(String)
    case unsupported(String)

    var description: String {
        switch self {
        case let .protocolError(text): "SSH protocol error: \(text)"
        case let .disconnected(text): "the server closed the connection: \(text)"
        case let .hostKeyMismatch(seen, _, _): "host key \(seen) is not the pinned one"
        case let .loginRefused(text): text
        case let .unsupported(text): text
        }
    }
}

/// SSH message numbers (RFC 4250 §4.1) used by the client.
enum SSHMessage {
    static let disconnect: UInt8 = 1, ignore: UInt8 = 2, unimplemented: UInt8 = 3, debug: UInt8 = 4
    static let serviceRequest: UInt8 = 5, serviceAccept: UInt8 = 6, extInfo: UInt8 = 7
    static let kexInit: UInt8 = 20, newKeys: UInt8 = 21, kexECDHInit: UInt8 = 30, kexECDHReply: UInt8 = 31
    static let userauthRequest: UInt8 = 50, userauthFailure: UInt8 = 51, userauthSuccess: UInt8 = 52, userauthBanner: UInt8 = 53
    static let userauthPasswordChange: UInt8 = 60
    static let globalRequest: UInt8 = 80, requestSuccess: UInt8 = 81, requestFailure: UInt8 = 82
    static let channelOpen: UInt8 = 90, channelOpenConfirmation: UInt8 = 91, channelOpenFailure: UInt8 = 92
    static let channelWindowAdjust: UInt8 = 93, channelData: UInt8 = 94, channelExtendedData: UInt8 = 95
    static let channelEOF: UInt8 = 96, channelClose: UInt8 = 97, channelRequest: UInt8 = 98
    static let channelSuccess: UInt8 = 99, channelFailure: UInt8 = 100
}
