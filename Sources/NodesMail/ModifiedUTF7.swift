import Foundation

/// IMAP's mailbox name encoding (RFC 3501 §5.1.3): printable ASCII as is (`&` as `&-`), other text as
/// `&` + base64 of UTF-16BE with `,` for `/` + `-`.
public enum ModifiedUTF7 {
    public static func encode(_ name: String) -> String {
        var output = "", pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            var bytes: [UInt8] = []
            for unit in pending { bytes += [UInt8(unit >> 8), UInt8(unit & 0xff)] }
            let base64 = Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "/", with: ",")
            output += "&" + base64 + "-"
            pending = []
        }
        for scalar in name.unicodeScalars {
            if (0x20...0x7e).contains(scalar.value) {
                flush()
                output += scalar == "&" ? "&-" : String(scalar)
            } else {
                pending += Array(String(scalar).utf16)
            }
        }
        flush()
        return output
    }

    public static func decode(_ name: String) -> String {
        var output = "", rest = Substring(name)
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            guard let dash = rest[amp...].firstIndex(of: "-") else { output += rest[amp...]; return output }
            let encoded = rest[rest.index(after: amp)..<dash]
            if encoded.isEmpty {
                output += "&"
            } else {
                var base64 = encoded.replacingOccurrences(of: ",", with: "/")
                while base64.count % 4 != 0 { base64 += "=" }
                let bytes = [UInt8](Data(base64Encoded: base64) ?? Data())
                let units = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
                output += String(decoding: units, as: UTF16.self)
            }
            rest = rest[rest.index(after: dash)...]
        }
        return output + rest
    }
}
