import Crypto

/// OpenSSH's key derivation for passphrase-protected private keys (`kdfname` "bcrypt"): a PBKDF2-like
/// construction whose inner function hashes with Blowfish's expensive key schedule (OpenBSD's bcrypt_pbkdf).
enum BcryptPBKDF {
    /// `length` bytes of key material from a passphrase, the key file's salt and its rounds.
    static func derive(passphrase: [UInt8], salt: [UInt8], rounds: Int, length: Int) -> [UInt8] {
        let hashedPassphrase = Array(SHA512.hash(data: passphrase))
        let outputSize = 32
        let stride = (length + outputSize - 1) / outputSize
        var amount = (length + stride - 1) / stride
        var key = [UInt8](repeating: 0, count: length)
        var remaining = length
        var block: UInt32 = 1
        while remaining > 0 {
            let countedSalt = salt + [UInt8(block >> 24), UInt8(truncatingIfNeeded: block >> 16), UInt8(truncatingIfNeeded: block >> 8), UInt8(truncatingIfNeeded: block)]
            var last = hash(hashedPassphrase, Array(SHA512.hash(data: countedSalt)))
            var output = last
            for _ in 1..<max(rounds, 1) {
                last = hash(hashedPassphrase, Array(SHA512.hash(data: last)))
                for i in output.indices { output[i] ^= last[i] }
            }
            // The output is spread over the key: byte i of block b goes to i·stride + b − 1.
            amount = min(amount, remaining)
            var taken = 0
            while taken < amount {
                let destination = taken * stride + Int(block - 1)
                if destination >= length { break }
                key[destination] = output[taken]
                taken += 1
            }
            remaining -= taken
            block += 1
        }
        return key
    }

    /// bcrypt_hash: Blowfish keyed by the salt and passphrase hashes (64 rounds of its key schedule), then
    /// "OxychromaticBlowfishSwatDynamite" encrypted 64 times; 32 bytes, each word little-endian.
    static func hash(_ hashedPassphrase: [UInt8], _ hashedSalt: [UInt8]) -> [UInt8] {
        var state = Blowfish()
        state.expand(data: hashedSalt, key: hashedPassphrase)
        for _ in 0..<64 {
            state.expand(data: nil, key: hashedSalt)
            state.expand(data: nil, key: hashedPassphrase)
        }
        let text = Array("OxychromaticBlowfishSwatDynamite".utf8)
        var position = 0
        var words = (0..<8).map { _ in Blowfish.word(text, &position) }
        for _ in 0..<64 {
            for i in Swift.stride(from: 0, to: 8, by: 2) {
                var left = words[i], right = words[i + 1]
                state.encipher(&left, &right)
                (words[i], words[i + 1]) = (left, right)
            }
        }
        return words.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0 >> 16), UInt8($0 >> 24)] }
    }
}

/// The Blowfish cipher's state (its P-array and S-boxes), with the key schedule's steps bcrypt uses.
struct Blowfish {
    private var p: [UInt32]
    private var s: [UInt32] // four S-boxes of 256 words, one after another

    init() {
        p = Array(PiWords.blowfish[0..<18])
        s = Array(PiWords.blowfish[18...])
    }

    /// The next 32-bit big-endian word of `bytes`, going round to its start when it ends.
    static func word(_ bytes: [UInt8], _ position: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            if position >= bytes.count { position = 0 }
            word = word << 8 | UInt32(bytes[position])
            position += 1
        }
        return word
    }

    @inline(__always)
    private func f(_ x: UInt32) -> UInt32 {
        ((s[Int(x >> 24)] &+ s[256 + Int((x >> 16) & 0xFF)]) ^ s[512 + Int((x >> 8) & 0xFF)]) &+ s[768 + Int(x & 0xFF)]
    }

    /// Encrypts one 64-bit block (two words) in place.
    func encipher(_ left: inout UInt32, _ right: inout UInt32) {
        var l = left ^ p[0], r = right
        var i = 1
        while i < 16 {
            r ^= f(l) ^ p[i]
            l ^= f(r) ^ p[i + 1]
            i += 2
        }
        left = r ^ p[17]
        right = l
    }

    /// The key schedule: the key is mixed into P, then P and the S-boxes are replaced by successive encryptions of
    /// the last block, each first mixed with the next words of the salt (`data`) when there is one.
    mutating func expand(data: [UInt8]?, key: [UInt8]) {
        var position = 0
        for i in 0..<18 { p[i] ^= Self.word(key, &position) }
        position = 0
        var l: UInt32 = 0, r: UInt32 = 0
        func next() -> (UInt32, UInt32) {
            if let data {
                l ^= Self.word(data, &position)
                r ^= Self.word(data, &position)
            }
            encipher(&l, &r)
            return (l, r)
        }
        for i in Swift.stride(from: 0, to: 18, by: 2) { (p[i], p[i + 1]) = next() }
        for i in Swift.stride(from: 0, to: 1024, by: 2) { (s[i], s[i + 1]) = next() }
    }
}
