import Foundation
import Logging
@testable import Server
import Synchronization
import Testing

/// `--log-format json`: one JSON object per line with time, level, logger, message and the metadata.
@Suite struct JSONLogHandlerTests {
    @Test func eachEventIsOneJSONObjectWithItsMetadata() throws {
        let written = Mutex<[String]>([])
        var logger = Logger(label: "sluice.worker") { label in JSONLogHandler(label: label) { line in written.withLock { $0.append(line) } } }
        logger[metadataKey: "run_id"] = "r1"
        logger.info("run finished", metadata: ["status": "failed", "error": "line 2: \"x\" is not an integer\nsecond line"])
        logger.debug("not shown: below the level")
        let lines = written.withLock { $0 }
        #expect(lines.count == 1 && lines[0].hasSuffix("\n") && !lines[0].dropLast().contains("\n"), "one line per event: \(lines)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "run finished" && object["level"] as? String == "info" && object["logger"] as? String == "sluice.worker")
        #expect(object["run_id"] as? String == "r1" && object["status"] as? String == "failed")
        #expect((object["error"] as? String)?.contains("\n") == true, "text with newlines stays one JSON string")
        #expect((object["time"] as? String)?.contains("T") == true)
    }
}
