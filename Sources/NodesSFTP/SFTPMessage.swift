import NIOCore

/// SFTP version 3 (draft-ietf-secsh-filexfer-02, what OpenSSH speaks): the packets Sluice sends and the replies it
/// reads. Pure encoding and decoding over `ByteBuffer`, tested without a server.
enum SFTPMessage {
    enum Kind: UInt8 {
        case initialize = 1, version = 2, open = 3, close = 4, read = 5, write = 6, lstat = 7, fstat = 8
        case opendir = 11, readdir = 12, remove = 13, mkdir = 14, realpath = 16, stat = 17, rename = 18
        case status = 101, handle = 102, data = 103, name = 104, attrs = 105
        case extended = 200, extendedReply = 201
    }

    /// `open` flags.
    struct OpenFlags: OptionSet {
        let rawValue: UInt32
        static let read = OpenFlags(rawValue: 0x01)
        static let write = OpenFlags(rawValue: 0x02)
        static let create = OpenFlags(rawValue: 0x08)
        static let truncate = OpenFlags(rawValue: 0x10)
        static let exclusive = OpenFlags(rawValue: 0x20)
    }

    /// Status codes.
    static let ok: UInt32 = 0
    static let endOfFile: UInt32 = 1
    static let noSuchFile: UInt32 = 2
    static let permissionDenied: UInt32 = 3

    /// A request's packet: length, kind, request id, then `body`.
    static func packet(_ kind: Kind, id: UInt32?, _ body: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(kind.rawValue)
        if let id { buffer.writeInteger(id) }
        body(&buffer)
        buffer.setInteger(UInt32(buffer.readableBytes - 4), at: buffer.readerIndex)
        return buffer
    }

    /// One reply, decoded.
    enum Reply {
        case version(UInt32, extensions: [String: String])
        case status(id: UInt32, code: UInt32, message: String)
        case handle(id: UInt32, ByteBuffer)
        case data(id: UInt32, ByteBuffer)
        case name(id: UInt32, [(name: String, attributes: Attributes)])
        case attrs(id: UInt32, Attributes)
        case extendedReply(id: UInt32)

        var id: UInt32? {
            switch self {
            case .version: nil
            case let .status(id, _, _), let .handle(id, _), let .data(id, _), let .name(id, _), let .attrs(id, _), let .extendedReply(id): id
            }
        }
    }

    /// File attributes: only those a listing needs.
    struct Attributes {
        var size: UInt64?
        var permissions: UInt32?
        var modified: UInt32?

        var isDirectory: Bool { permissions.map { $0 & 0o170000 == 0o040000 } ?? false }
        var isRegularFile: Bool { permissions.map { $0 & 0o170000 == 0o100000 } ?? true }

        static let empty = Attributes()

        func write(to buffer: inout ByteBuffer) {
            buffer.writeInteger(UInt32(permissions == nil ? 0 : 0x4))
            if let permissions { buffer.writeInteger(permissions) }
        }

        static func read(_ buffer: inout ByteBuffer) throws -> Attributes {
            let flags: UInt32 = try buffer.readSFTP()
            var attributes = Attributes()
            if flags & 0x1 != 0 { attributes.size = try buffer.readSFTP() as UInt64 }
            if flags & 0x2 != 0 { _ = try buffer.readSFTP() as UInt32; _ = try buffer.readSFTP() as UInt32 }
            if flags & 0x4 != 0 { attributes.permissions = try buffer.readSFTP() as UInt32 }
            if flags & 0x8 != 0 { _ = try buffer.readSFTP() as UInt32; attributes.modified = try buffer.readSFTP() as UInt32 }
            if flags & 0x8000_0000 != 0 {
                let count: UInt32 = try buffer.readSFTP()
                for _ in 0..<count { _ = try buffer.readSFTPString(); _ = try buffer.readSFTPString() }
            }
            return attributes
        }
    }

    /// Decodes one whole packet (without its length prefix).
    static func decode(_ packet: inout ByteBuffer) throws -> Reply {
        let type: UInt8 = try packet.readSFTP()
        guard let kind = Kind(rawValue: type) else { throw SFTPError.protocolError("unexpected packet type \(type)") }
        if kind == .version {
            let version: UInt32 = try packet.readSFTP()
            var extensions: [String: String] = [:]
            while packet.readableBytes > 0 { extensions[try packet.readSFTPString()] = try packet.readSFTPString() }
            return .version(version, extensions: extensions)
        }
        let id: UInt32 = try packet.readSFTP()
        switch kind {
        case .status:
            let code: UInt32 = try packet.readSFTP()
            let message = packet.readableBytes >= 4 ? try packet.readSFTPString() : ""
            return .status(id: id, code: code, message: message)
        case .handle: return .handle(id: id, try packet.readSFTPBytes())
        case .data: return .data(id: id, try packet.readSFTPBytes())
        case .name:
            let count: UInt32 = try packet.readSFTP()
            guard count <= 1_000_000 else { throw SFTPError.protocolError("a listing of \(count) names") }
            var names: [(String, Attributes)] = []
            for _ in 0..<count {
                let name = try packet.readSFTPString()
                _ = try packet.readSFTPString()
                names.append((name, try Attributes.read(&packet)))
            }
            return .name(id: id, names)
        case .attrs: return .attrs(id: id, try Attributes.read(&packet))
        case .extendedReply: return .extendedReply(id: id)
        default: throw SFTPError.protocolError("unexpected reply \(kind)")
        }
    }
}

/// What can go wrong talking SFTP.
enum SFTPError: Error, CustomStringConvertible {
    case protocolError(String)
    case status(code: UInt32, message: String, operation: String)
    case closed

    var description: String {
        switch self {
        case let .protocolError(what): "SFTP protocol error: \(what)"
        case let .status(code, message, operation):
            "\(operation): \(message.isEmpty ? Self.name(code) : message)" + (message.isEmpty ? "" : " (\(Self.name(code)))")
        case .closed: "the SFTP session closed"
        }
    }

    static func name(_ code: UInt32) -> String {
        switch code {
        case 1: "end of file"
        case 2: "no such file"
        case 3: "permission denied"
        case 4: "failure"
        case 5: "bad message"
        case 8: "operation unsupported"
        default: "status \(code)"
        }
    }
}

extension ByteBuffer {
    mutating func readSFTP<T: FixedWidthInteger>() throws -> T {
        guard let value = readInteger(as: T.self) else { throw SFTPError.protocolError("a packet ended early") }
        return value
    }

    mutating func readSFTPBytes() throws -> ByteBuffer {
        let length: UInt32 = try readSFTP()
        guard let slice = readSlice(length: Int(length)) else { throw SFTPError.protocolError("a string is longer than its packet") }
        return slice
    }

    mutating func readSFTPString() throws -> String {
        String(buffer: try readSFTPBytes())
    }

    mutating func writeSFTPString(_ text: String) {
        writeInteger(UInt32(text.utf8.count))
        writeString(text)
    }

    mutating func writeSFTPBytes(_ bytes: ByteBuffer) {
        writeInteger(UInt32(bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }
}
