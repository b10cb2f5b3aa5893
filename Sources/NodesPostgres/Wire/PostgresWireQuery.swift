import NIOCore

extension PostgresWireSession {
    /// Runs `sql` as a simple query (one or more statements, no parameters: values are inlined as literals)
    /// and returns the rows of its results as text (nil for NULL). A server error is thrown once the server
    /// is ready again, so the session stays usable (inside a failed transaction, until ROLLBACK).
    @discardableResult
    func query(_ sql: String) async throws -> [[String?]] {
        try await sendQuery(sql)
        return try await finishCommand()
    }

    /// Reads until ReadyForQuery, returning the data rows on the way (as text) and throwing the first error
    /// the server reported once it is ready again.
    @discardableResult
    func finishCommand() async throws -> [[String?]] {
        var rows: [[String?]] = []
        var failure: PostgresWireError?
        while true {
            var (type, body) = try await nextMessage()
            switch type {
            case UInt8(ascii: "D"):
                rows.append(try PostgresWireMessage.textRow(&body))
            case UInt8(ascii: "E"):
                if failure == nil { failure = .server(PostgresServerNotice(body)) }
            case UInt8(ascii: "G"):
                // A COPY FROM STDIN sent through `query`: refuse it so the server leaves copy mode.
                try await sendCopyFail("COPY FROM STDIN needs copyIn")
            case UInt8(ascii: "Z"):
                if let failure { throw failure }
                return rows
            default:
                continue // RowDescription, CommandComplete, notices
            }
        }
    }

    func sendCopyFail(_ reason: String) async throws {
        var message = ByteBuffer()
        PostgresWireMessage.write(type: "f", to: &message) { $0.writeNullTerminated(reason) }
        try await send(message)
    }
}

extension PostgresWireMessage {
    /// A DataRow's values as text (nil for NULL).
    static func textRow(_ body: inout ByteBuffer) throws -> [String?] {
        guard let count = body.readInteger(as: Int16.self) else { throw PostgresWireError.protocolViolation("short data row") }
        var row: [String?] = []
        row.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            guard let length = body.readInteger(as: Int32.self) else { throw PostgresWireError.protocolViolation("short data row") }
            if length < 0 { row.append(nil); continue }
            guard let text = body.readString(length: Int(length)) else { throw PostgresWireError.protocolViolation("short data row") }
            row.append(text)
        }
        return row
    }
}
