import Testing
@testable import Columnar

@Suite struct CivilTimeTests {
    @Test(arguments: [
        ("1970-01-01", 0), ("2000-02-29", 11016), ("1969-12-31", -1), ("2024-03-10", 19792),
        ("0001-01-01", -719162), ("9999-12-31", 2932896), ("1900-03-01", -25508),
    ])
    func datesRoundTrip(text: String, days: Int64) {
        #expect(CivilTime.parseDate(text) == days)
        #expect(CivilTime.formatDate(days: days) == text)
    }

    @Test(arguments: ["2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "24-01-01", "2024/01/01", "2024-01-1"])
    func invalidDatesAreRejected(text: String) {
        #expect(CivilTime.parseDate(text) == nil)
    }

    @Test(arguments: [
        ("2023-05-17T13:45:12+05:30", "2023-05-17T08:15:12Z"),
        ("2023-05-17T13:45:12Z", "2023-05-17T13:45:12Z"),
        ("2023-05-17 13:45:12", "2023-05-17T13:45:12Z"),
        ("2023-05-17T13:45:12.123456-08:00", "2023-05-17T21:45:12.123456Z"),
        ("2023-05-17T13:45:12.5+0100", "2023-05-17T12:45:12.5Z"),
        ("2023-05-17T00:30:00+01", "2023-05-16T23:30:00Z"),
        ("2023-05-17T13:45", "2023-05-17T13:45:00Z"),
        ("2023-05-17", "2023-05-17T00:00:00Z"),
        ("1800-01-01T00:00:00Z", "1800-01-01T00:00:00Z"),
        ("2400-12-31T23:59:59Z", "2400-12-31T23:59:59Z"),
    ])
    func timestampsNormalizeToUTC(text: String, utc: String) {
        let micros = CivilTime.parseTimestamp(text)
        #expect(micros != nil)
        #expect(micros.map { CivilTime.formatTimestamp(micros: $0) } == utc)
    }

    /// The fast writer (CSV, JSONL and COPY output) writes what `formatTimestamp` does, years of more than four
    /// digits and negative years included (it once wrote only their date).
    @Test(arguments: ["2023-05-17T13:45:12.5Z", "1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
    func writtenTimestampsMatchFormattedOnes(text: String) throws {
        let micros = try #require(CivilTime.parseTimestamp(text))
        let far = CivilTime.days(year: 275_760, month: 9, day: 13) * CivilTime.microsPerDay + 86_399_999_999
        let early = CivilTime.days(year: -4712, month: 1, day: 1) * CivilTime.microsPerDay + 1
        for value in [micros, far, early] {
            let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: CivilTime.maxTimestampLength) { p in
                String(decoding: UnsafeBufferPointer(rebasing: p[0..<CivilTime.writeTimestamp(micros: value, to: p.baseAddress!)]), as: UTF8.self)
            }
            #expect(written == CivilTime.formatTimestamp(micros: value))
        }
        #expect(CivilTime.formatTimestamp(micros: micros) == text)
    }

    @Test(arguments: ["2023-05-17T25:00:00Z", "2023-05-17T13:45:12+05:30x", "2023-05-17X13:45", "not a time", "2023-05-17T13:45:12."])
    func invalidTimestampsAreRejected(text: String) {
        #expect(CivilTime.parseTimestamp(text) == nil)
    }

    @Test func civilDaysMatchForEveryDayOfFourCenturies() {
        var days = CivilTime.days(year: 1800, month: 1, day: 1)
        for year: Int64 in 1800..<2200 {
            for month: Int64 in 1...12 {
                for day in 1...CivilTime.daysInMonth(year: year, month: month) {
                    #expect(CivilTime.days(year: year, month: month, day: day) == days)
                    days += 1
                }
            }
        }
        #expect(CivilTime.civil(days: 0) == (1970, 1, 1))
    }
}
