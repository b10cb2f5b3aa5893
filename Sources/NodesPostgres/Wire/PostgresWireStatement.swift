import NIOCore

extension PostgresWireSession {
    /// What one statement run through the extended protocol returned.
    struct StatementOutcome {
        var columns: [String] = []
        var rows: [[String?]] = []
        /// The command tag (`INSERT 0 5`, `SELECT 120`, `CREATE VIEW`).
        var tag: String?
        var notices: [PostgresServerNotice] = []
    }

    /// Runs one statement with its parameters bound as text (`$1`, `$2`…; nil is NULL), through the extended
    /// protocol (Parse, Bind, Describe, Execute, Sync), so values are never spliced into the SQL. Rows come back
    /// as text. A server error is thrown once the server is ready again, with its position in the statement.
    func run(_ sql: String, parameters: [String?]) async throws -> StatementOutcome {
        var messages = ByteBuffer()
        PostgresWireMessage.write(type: "P", to: &messages) {
            $0.writeNullTerminated("")
            $0.writeNullTerminated(sql)
            $0.writeInteger(Int16(0))
        }
        PostgresWireMessage.write(type: "B", to: &messages) {
            $0.writeNullTerminated("")
            $0.writeNullTerminated("")
            $0.writeInteger(Int16(0)) // every parameter as text
            $0.writeInteger(Int16(parameters.count))
            for parameter in parameters {
                if let parameter {
                    $0.writeInteger(Int32(parameter.utf8.count))
                    $0.writeString(parameter)
                } else {
                    $0.writeInteger(Int32(-1))
                }
            }
            $0.writeInteger(Int16(0)) // every result column as text
        }
        PostgresWireMessage.write(type: "D", to: &messages) {
            $0.writeInteger(UInt8(ascii: "P"))
            $0.writeNullTerminated("")
        }
        PostgresWireMessage.write(type: "E", to: &messages) {
            $0.writeNullTerminated("")
            $0.writeInteger(Int32(0))
        }
        PostgresWireMessage.write(type: "S", to: &messages) { _ in }
        try await send(messages)

        var outcome = StatementOutcome()
        var failure: PostgresWireError?
        while true {
            var (type, body) = try await nextMessage()
            switch type {
            case UInt8(ascii: "T"):
                guard let count = body.readInteger(as: Int16.self) else { throw PostgresWireError.protocolViolation("short row description") }
                for _ in 0..<Int(count) {
                    guard let name = body.readNullTerminatedString() else { throw PostgresWireError.protocolViolation("short row description") }
                    outcome.columns.append(name)
                    body.moveReaderIndex(forwardBy: 18)
                }
            case UInt8(ascii: "D"):
                outcome.rows.append(try PostgresWireMessage.textRow(&body))
            case UInt8(ascii: "C"):
                outcome.tag = body.readNullTerminatedString()
            case UInt8(ascii: "N"):
                outcome.notices.append(PostgresServerNotice(body))
            case UInt8(ascii: "E"):
                if failure == nil { failure = .server(PostgresServerNotice(body)) }
            case UInt8(ascii: "G"):
                try await sendCopyFail("COPY FROM STDIN is not supported in a SQL statement; use postgres.write")
            case UInt8(ascii: "Z"):
                if let failure { throw failure }
                return outcome
            default:
                continue // ParseComplete, BindComplete, NoData, EmptyQueryResponse, ParameterStatus
            }
        }
    }
}
