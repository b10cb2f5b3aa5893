#!/usr/bin/env python3
"""Compares a Sluice output file with what DuckDB computes from the same inputs (golden tests).

  python3 Tests/Golden/compare.py ACTUAL.csv 'SQL over read_csv(...) …' [--ordered]

Prints nothing and exits 0 when both hold the same rows (as text, NULL as empty; in any order unless
--ordered); otherwise prints the rows only one side has and exits 1.
"""
import csv, sys
from collections import Counter
from decimal import Decimal
import duckdb

actual_path, sql = sys.argv[1], sys.argv[2]
ordered = "--ordered" in sys.argv[3:]


def text(value):
    """A DuckDB value as Sluice's CSV writer prints it: NULL empty, booleans lowercase, whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")  # 0.0000000000, never 0E-10
    return str(value)


with open(actual_path, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, actual = (rows[0], rows[1:]) if rows else ([], [])
result = duckdb.sql(sql)
expected_header = list(result.columns)
expected = [[text(v) for v in row] for row in result.fetchall()]
problems = []
if header != expected_header:
    problems.append(f"columns differ: sluice {header}, duckdb {expected_header}")
if ordered:
    if actual != expected:
        for i, (a, e) in enumerate(zip(actual, expected)):
            if a != e:
                problems.append(f"row {i + 1}: sluice {a}, duckdb {e}")
                break
        if len(actual) != len(expected):
            problems.append(f"sluice has {len(actual)} rows, duckdb {len(expected)}")
else:
    a, e = Counter(map(tuple, actual)), Counter(map(tuple, expected))
    for row, n in (a - e).items():
        problems.append(f"only sluice ({n}x): {list(row)}")
    for row, n in (e - a).items():
        problems.append(f"only duckdb ({n}x): {list(row)}")
if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
