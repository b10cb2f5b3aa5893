/// A compiled SQL LIKE pattern: `%` matches any run of characters, `_` exactly one, `\` escapes.
struct LikePattern: Sendable {
    enum Piece: Sendable, Equatable {
        case literal(UInt8)
        case any       // _
        case anyRun    // %
    }

    let pieces: [Piece]

    init(_ pattern: String) {
        var pieces: [Piece] = []
        var escaped = false
        for byte in pattern.utf8 {
            if escaped {
                pieces.append(.literal(byte))
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "%") {
                if pieces.last != .anyRun { pieces.append(.anyRun) }
            } else if byte == UInt8(ascii: "_") {
                pieces.append(.any)
            } else {
                pieces.append(.literal(byte))
            }
        }
        self.pieces = pieces
    }

    /// Whether `text` (UTF-8) matches; `_` consumes one whole UTF-8 character. Linear-time backtracking over `%`.
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var t = 0, p = 0
        var starPiece = -1, starText = 0
        while t < text.count {
            if p < pieces.count {
                switch pieces[p] {
                case let .literal(b) where b == text[t]:
                    t += 1; p += 1; continue
                case .any:
                    t += 1
                    while t < text.count, text[t] & 0xC0 == 0x80 { t += 1 }
                    p += 1
                    continue
                case .anyRun:
                    starPiece = p
                    starText = t
                    p += 1
                    continue
                default: break
                }
            }
            guard starPiece >= 0 else { return false }
            p = starPiece + 1
            starText += 1
            while starText < text.count, text[starText] & 0xC0 == 0x80 { starText += 1 }
            t = starText
        }
        while p < pieces.count, pieces[p] == .anyRun { p += 1 }
        return p == pieces.count
    }
}
