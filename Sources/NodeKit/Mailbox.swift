/// Watches a mailbox for new mail (mailbox triggers): connectors for mail servers adopt it.
public protocol MailboxWatching: Connector {
    /// Looks at a mailbox once: where it ends now and, when asked, the matching messages after a position.
    static func scan(_ connection: Connection, _ request: MailboxScanRequest) async throws -> MailboxScan
}

/// What a mailbox scan looks for.
public struct MailboxScanRequest: Sendable {
    public var mailbox: String
    /// Only messages whose header fields contain these texts (the server's SEARCH semantics).
    public var from: String?
    public var to: String?
    public var subject: String?
    /// The mailbox's UID validity the caller knows; when the mailbox now has another, no messages are read.
    public var uidValidity: Int64?
    /// Read the matching messages after this UID; nil reads none (the caller only wants the mailbox's end).
    public var afterUID: Int64?
    public var maxMessages: Int
    /// Messages larger than this are read as headers only (`tooLarge`).
    public var maxMessageBytes: Int

    public init(mailbox: String, from: String? = nil, to: String? = nil, subject: String? = nil, uidValidity: Int64?, afterUID: Int64?,
                maxMessages: Int, maxMessageBytes: Int) {
        self.mailbox = mailbox
        self.from = from
        self.to = to
        self.subject = subject
        self.uidValidity = uidValidity
        self.afterUID = afterUID
        self.maxMessages = maxMessages
        self.maxMessageBytes = maxMessageBytes
    }
}

/// What a mailbox scan found.
public struct MailboxScan: Sendable {
    public var uidValidity: Int64
    /// The highest UID in the mailbox now.
    public var lastUID: Int64
    /// How many messages the mailbox holds.
    public var exists: Int
    /// The matching messages after the requested UID, in UID order, at most `maxMessages`.
    public var messages: [MailboxMessage]
    /// Whether more matching messages wait beyond `messages`.
    public var moreWaiting: Bool

    public init(uidValidity: Int64, lastUID: Int64, exists: Int, messages: [MailboxMessage] = [], moreWaiting: Bool = false) {
        self.uidValidity = uidValidity
        self.lastUID = lastUID
        self.exists = exists
        self.messages = messages
        self.moreWaiting = moreWaiting
    }
}

/// One message as a mailbox trigger sees it: headers, the body text and the attachments' bytes.
public struct MailboxMessage: Sendable {
    /// A file attached to a message.
    public struct Attachment: Sendable {
        public let fileName: String
        public let contentType: String
        public let bytes: [UInt8]

        public init(fileName: String, contentType: String, bytes: [UInt8]) {
            self.fileName = fileName
            self.contentType = contentType
            self.bytes = bytes
        }
    }

    public var uid: Int64
    public var messageID: String
    public var from: String
    /// The first address in `from`, bare.
    public var fromAddress: String
    public var to: String
    public var cc: String
    public var subject: String
    public var date: String?
    /// When the server received it, ISO-8601 in UTC.
    public var receivedAt: String?
    public var size: Int
    /// Larger than the request allowed: only its headers were read (no body, no attachments).
    public var tooLarge: Bool
    public var body: String
    public var attachments: [Attachment]

    public init(uid: Int64, messageID: String, from: String, fromAddress: String, to: String, cc: String, subject: String, date: String?,
                receivedAt: String?, size: Int, tooLarge: Bool, body: String, attachments: [Attachment]) {
        self.uid = uid
        self.messageID = messageID
        self.from = from
        self.fromAddress = fromAddress
        self.to = to
        self.cc = cc
        self.subject = subject
        self.date = date
        self.receivedAt = receivedAt
        self.size = size
        self.tooLarge = tooLarge
        self.body = body
        self.attachments = attachments
    }
}
