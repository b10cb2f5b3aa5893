#!/usr/bin/env python3
"""Deterministic generator of the "customers" CSV joined to the orders in bench/transforms.sh.

Columns: id (1..ROWS), name, segment (5 values), country (2 letters), signup_date. LF line ends.

Usage: generate_customers.py ROWS OUTPUT
"""
import random
import sys

SEGMENTS = ["consumer", "small business", "enterprise", "public sector", "education"]
COUNTRIES = ["DE", "FR", "US", "GB", "JP", "IT", "ES", "NL", "SE", "PL", "BR", "CA", "AU", "IN", "CN", "MX"]
FIRST = ["anna", "bernhard", "chloe", "dmitri", "emma", "felipe", "grace", "hiroshi", "ingrid", "jamal", "katarzyna", "liam"]
LAST = ["müller", "dubois", "smith", "tanaka", "rossi", "garcía", "de vries", "nilsson", "kowalski", "silva"]


def main():
    rows = int(sys.argv[1])
    rng = random.Random(20261205)
    with open(sys.argv[2], "w", newline="\n", buffering=1 << 20) as out:
        out.write("id,name,segment,country,signup_date\n")
        lines = []
        for i in range(1, rows + 1):
            day = rng.randrange(0, 1500)
            y, rest = divmod(day, 365)
            m, d = divmod(rest, 31)
            lines.append("%d,%s %s,%s,%s,%04d-%02d-%02d\n" % (i, rng.choice(FIRST), rng.choice(LAST), rng.choice(SEGMENTS), rng.choice(COUNTRIES),
                                                              2019 + y, min(m + 1, 12), min(d + 1, 28)))
            if len(lines) >= 10000:
                out.write("".join(lines))
                lines = []
        out.write("".join(lines))


if __name__ == "__main__":
    main()
