import Foundation
import Testing
@testable import NodesS3

/// The signer against AWS's published Signature Version 4 test vectors (the "aws-sig-v4-test-suite" requests,
/// signed for service "service" in us-east-1 at 20150830T123600Z) and the S3 documentation's GET example.
@Suite struct SigV4SignerTests {
    let suite = SigV4Signer(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: nil,
                            region: "us-east-1", service: "service")
    let suiteDate = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z

    func authorization(_ headers: [(String, String)]) -> String { headers.first { $0.0 == "Authorization" }?.1 ?? "" }

    @Test func getVanilla() {
        let headers = suite.sign(method: "GET", path: "/", query: [], headers: [("Host", "example.amazonaws.com")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: suiteDate)
        #expect(authorization(headers) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(headers.contains { $0 == ("x-amz-date", "20150830T123600Z") })
    }

    @Test func postVanilla() {
        let headers = suite.sign(method: "POST", path: "/", query: [], headers: [("Host", "example.amazonaws.com")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: suiteDate)
        #expect(authorization(headers).hasSuffix("SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
    }

    @Test func queryParametersAreSortedByName() {
        let headers = suite.sign(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: [("Host", "example.amazonaws.com")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: suiteDate)
        #expect(authorization(headers).hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    @Test func s3DocumentationGetObjectWithRange() {
        let signer = SigV4Signer(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: nil,
                                 region: "us-east-1", service: "s3")
        let headers = signer.sign(method: "GET", path: "/test.txt", query: [],
                                  headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)],
                                  payloadHash: SigV4Signer.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_369_353_600)) // 2013-05-24T00:00:00Z
        #expect(authorization(headers) == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func keysAreEncodedOncePerSegment() {
        #expect(SigV4Signer.encode("raw/2026 01/a+b=c.csv", keepSlash: true) == "raw/2026%2001/a%2Bb%3Dc.csv")
        #expect(SigV4Signer.encode("ü~-_.") == "%C3%BC~-_.")
        #expect(SigV4Signer.canonicalQuery([("prefix", "a b"), ("list-type", "2")]) == "list-type=2&prefix=a%20b")
    }

    @Test func xmlRepliesAreRead() {
        let xml = "<ListBucketResult><Contents><Key>a&amp;b.csv</Key><Size>12</Size></Contents><Contents><Key>c.csv</Key></Contents><IsTruncated>false</IsTruncated></ListBucketResult>"[...]
        #expect(S3XML.elements("Contents", in: xml).compactMap { S3XML.value("Key", in: $0) } == ["a&b.csv", "c.csv"])
        #expect(S3XML.value("Message", in: "<Error><Code>NoSuchBucket</Code><Message>The bucket &lt;x&gt; does not exist</Message></Error>") == "The bucket <x> does not exist")
    }
}
