import NodeKit

/// Checks that bytes are well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF), so
/// that text read from files is valid in every output: JSON Lines readers, PostgreSQL and SQLite refuse or
/// corrupt invalid text. ASCII runs are checked eight bytes at a time.
enum UTF8Validation {
    /// What a file node does with text that is not valid UTF-8.
    enum Policy: String, Choice {
        /// The record goes to the rejects with the column named.
        case reject
        /// Each invalid sequence becomes U+FFFD and the record is kept.
        case replace
    }

    static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let n = b.count
        var i = 0
        while i < n {
            while i &+ 8 <= n, UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i &+= 8 }
            guard i < n else { break }
            let c = b[i]
            if c < 0x80 { i &+= 1; continue }
            if c < 0xC2 { return false }
            if c < 0xE0 {
                guard i &+ 1 < n, b[i &+ 1] & 0xC0 == 0x80 else { return false }
                i &+= 2
            } else if c < 0xF0 {
                guard i &+ 2 < n else { return false }
                let c1 = b[i &+ 1]
                guard c1 & 0xC0 == 0x80, b[i &+ 2] & 0xC0 == 0x80 else { return false }
                if c == 0xE0 && c1 < 0xA0 { return false }   // overlong
                if c == 0xED && c1 > 0x9F { return false }   // UTF-16 surrogates
                i &+= 3
            } else if c < 0xF5 {
                guard i &+ 3 < n else { return false }
                let c1 = b[i &+ 1]
                guard c1 & 0xC0 == 0x80, b[i &+ 2] & 0xC0 == 0x80, b[i &+ 3] & 0xC0 == 0x80 else { return false }
                if c == 0xF0 && c1 < 0x90 { return false }   // overlong
                if c == 0xF4 && c1 > 0x8F { return false }   // past U+10FFFF
                i &+= 4
            } else {
                return false
            }
        }
        return true
    }

    /// The bytes with each invalid sequence replaced by U+FFFD.
    static func repaired(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        Array(String(decoding: b, as: UTF8.self).utf8)
    }
}
