import Columnar
import Foundation
import NodeKit

/// The statistics of one column as shown in the profile's rows and report.
struct ColumnSummary {
    let name: String
    let type: DataType
    let rows: Int
    let count: Int
    let nulls: Int
    let distinct: Int
    let distinctIsExact: Bool
    let minimum: Value
    let maximum: Value
    let mean: Double?
    let standardDeviation: Double?
    let percentiles: [Double?]
    let percentilesAreExact: Bool
    let top: [(value: Value, count: Int)]
    let histogram: [Int]
}

/// Renders a profile as one self-contained HTML page: a summary table, then per column an SVG histogram (numbers)
/// or a bar chart of the most frequent values. No scripts, no external resources; every value is escaped.
enum ProfileReport {
    static func html(title: String, generated: Date, rows: Int, columns: [ColumnSummary]) -> String {
        var page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328}
        h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}
        .meta{color:#59636e;margin:0 0 16px}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}
        th,td{border-bottom:1px solid #d1d9e0;padding:4px 8px;text-align:right;white-space:nowrap}
        th:first-child,td:first-child,.text{text-align:left}
        th{background:#f6f8fa}
        .wrap{overflow-x:auto}
        .bar{fill:#0969da}.axis{font-size:11px;fill:#59636e}
        .note{color:#59636e;font-size:12px}
        </style></head><body>
        <h1>\(escape(title))</h1>
        <p class="meta">\(rows) rows · \(columns.count) columns · generated \(escape(ISO8601DateFormatter().string(from: generated)))</p>
        <div class="wrap"><table id="summary"><thead><tr><th>column</th><th class="text">type</th><th>count</th><th>nulls</th><th>distinct</th>
        <th class="text">min</th><th class="text">max</th><th>mean</th><th>stddev</th><th>p50</th><th>p90</th><th>p99</th></tr></thead><tbody>

        """
        for column in columns {
            let nullShare = column.rows > 0 ? " (\(percent(Double(column.nulls) / Double(column.rows))))" : ""
            let cells = [number(column.mean), number(column.standardDeviation)] + column.percentiles.map(number)
            page += "<tr><td>\(escape(column.name))</td><td class=\"text\">\(escape(column.type.description))</td><td>\(column.count)</td>"
            page += "<td>\(column.nulls)\(nullShare)</td><td>\(column.distinctIsExact ? "" : "≈")\(column.distinct)</td>"
            page += "<td class=\"text\">\(escape(shortText(column.minimum)))</td><td class=\"text\">\(escape(shortText(column.maximum)))</td>"
            page += cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        page += "</tbody></table></div>\n"
        for column in columns {
            page += "<h2>\(escape(column.name)) <span class=\"note\">\(escape(column.type.description))</span></h2>\n"
            if !column.histogram.isEmpty {
                page += histogramSVG(column)
            } else if !column.top.isEmpty {
                page += topSVG(column)
            } else {
                page += "<p class=\"note\">No values.</p>\n"
            }
            var notes: [String] = []
            if !column.distinctIsExact { notes.append("distinct count estimated (HyperLogLog); most frequent values counted among the values held exactly") }
            if !column.percentilesAreExact { notes.append("percentiles and histogram from a t-digest") }
            if !notes.isEmpty { page += "<p class=\"note\">\(escape(notes.joined(separator: "; ")))</p>\n" }
        }
        page += "</body></html>\n"
        return page
    }

    private static func histogramSVG(_ column: ColumnSummary) -> String {
        let width = 600.0, height = 140.0, bins = Double(column.histogram.count)
        let peak = Double(column.histogram.max() ?? 1)
        var svg = "<svg role=\"img\" aria-label=\"histogram of \(escape(column.name))\" width=\"\(Int(width))\" height=\"\(Int(height) + 20)\" viewBox=\"0 0 \(Int(width)) \(Int(height) + 20)\">\n"
        for (i, count) in column.histogram.enumerated() {
            let h = peak > 0 ? Double(count) / peak * height : 0
            let x = Double(i) * width / bins
            svg += "<rect class=\"bar\" x=\"\(format(x + 1))\" y=\"\(format(height - h))\" width=\"\(format(width / bins - 2))\" height=\"\(format(h))\"><title>\(count)</title></rect>\n"
        }
        svg += "<text class=\"axis\" x=\"\(Int(width) / 2)\" y=\"\(Int(height) + 14)\" text-anchor=\"middle\">\(column.histogram.count) bins · tallest \(Int(peak)) values</text>"
        svg += "<text class=\"axis\" x=\"0\" y=\"\(Int(height) + 14)\">\(escape(shortText(column.minimum)))</text>"
        svg += "<text class=\"axis\" x=\"\(Int(width))\" y=\"\(Int(height) + 14)\" text-anchor=\"end\">\(escape(shortText(column.maximum)))</text></svg>\n"
        return svg
    }

    private static func topSVG(_ column: ColumnSummary) -> String {
        let rowHeight = 22.0, labelWidth = 200.0, barWidth = 380.0
        let peak = Double(column.top.first?.count ?? 1)
        let height = rowHeight * Double(column.top.count)
        var svg = "<svg role=\"img\" aria-label=\"most frequent values of \(escape(column.name))\" width=\"\(Int(labelWidth + barWidth + 80))\" height=\"\(Int(height))\">\n"
        for (i, entry) in column.top.enumerated() {
            let y = Double(i) * rowHeight
            let w = max(1, Double(entry.count) / peak * barWidth)
            svg += "<text class=\"axis\" x=\"\(Int(labelWidth - 6))\" y=\"\(format(y + 15))\" text-anchor=\"end\">\(escape(shortText(entry.value, limit: 30)))</text>"
            svg += "<rect class=\"bar\" x=\"\(Int(labelWidth))\" y=\"\(format(y + 3))\" width=\"\(format(w))\" height=\"16\"></rect>"
            svg += "<text class=\"axis\" x=\"\(format(labelWidth + w + 6))\" y=\"\(format(y + 15))\">\(entry.count)</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// A value as short text for a cell or a label.
    static func shortText(_ value: Value, limit: Int = 60) -> String {
        if value.isNull { return "" }
        let text = value.description
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    private static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        return abs(value) >= 1e15 || (abs(value) < 1e-4 && value != 0) ? String(format: "%.4g", value) : String(format: "%.4f", value).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
    }

    private static func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }
    private static func format(_ x: Double) -> String { String(format: "%.1f", x) }

    static func escape(_ text: String) -> String { MarkupText.escaped(text) }
}
