import Foundation

/// Golden tests: what DuckDB computes from the same input files, compared with a Sluice output file
/// (`Tests/Golden/compare.py`; DuckDB comes from PyPI, installed by scripts/setup).
public enum GoldenReference {
    /// nil when `actual` (a CSV file with a header) holds the rows `sql` returns in DuckDB (as text, NULL as
    /// empty, in any order unless `ordered`); otherwise the differences.
    public static func differences(actual: String, sql: String, ordered: Bool = false) -> String? {
        let script = PostgresTestServer.root.appendingPathComponent("Tests/Golden/compare.py").path
        let result = PostgresTestServer.spawn("/usr/bin/env", ["python3", script, actual, sql] + (ordered ? ["--ordered"] : []))
        return result.status == 0 ? nil : "DuckDB disagrees (\(result.status)):\n\(result.output)"
    }
}
