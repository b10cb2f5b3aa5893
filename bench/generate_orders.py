#!/usr/bin/env python3
"""Deterministic generator of the "orders" CSV used by the benchmarks.

Columns: id (increasing), customer_id, created_at (ISO-8601 with offset), order_date, amount (2 decimals),
quantity (1-20, ~1% empty), status, note (~25% empty; some with commas and double quotes), email,
country (2 letters), is_gift, discount_code (~75% empty). LF line ends; empty unquoted cells are NULL.

Usage: generate_orders.py ROWS OUTPUT
"""
import random
import sys

STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]
COUNTRIES = ["DE", "FR", "US", "GB", "JP", "IT", "ES", "NL", "SE", "PL", "BR", "CA", "AU", "IN", "CN", "MX"]
OFFSETS = ["+00:00", "+01:00", "+02:00", "-05:00", "-08:00", "+05:30", "+09:00", "-03:00"]
NOTES = ["leave at door", "gift, please wrap", 'customer said "urgent"', "call before delivery", "fragile",
         "second attempt", 'size "L", colour blue', "no invoice", "deliver after 6pm, thanks"]
CODES = ["SPRING10", "WELCOME", "VIP2023", "FREESHIP", "BLACKFRIDAY"]
FIRST = ["anna", "bernhard", "chloe", "dmitri", "emma", "felipe", "grace", "hiroshi", "ingrid", "jamal", "katarzyna", "liam"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def quote(text):
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def main():
    rows = int(sys.argv[1])
    rng = random.Random(20240501)
    out = open(sys.argv[2], "w", newline="\n", buffering=1 << 20)
    out.write("id,customer_id,created_at,order_date,amount,quantity,status,note,email,country,is_gift,discount_code\n")
    base = 1672531200  # 2023-01-01T00:00:00Z
    lines = []
    for i in range(1, rows + 1):
        t = base + i * 6 + rng.randrange(6)
        offset = rng.choice(OFFSETS)
        sign = 1 if offset[0] == "+" else -1
        local = t + sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
        days, rest = divmod(local, 86400)
        y, m, d = civil(days)
        created = "%04d-%02d-%02dT%02d:%02d:%02d%s" % (y, m, d, rest // 3600, rest // 60 % 60, rest % 60, offset)
        order_date = "%04d-%02d-%02d" % (y, m, d)
        amount = "%.2f" % (rng.randrange(100, 200000) / 100)
        quantity = "" if rng.random() < 0.01 else str(rng.randint(1, 20))
        r = rng.random()
        note = "" if r < 0.25 else quote(rng.choice(NOTES) if r < 0.6 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))))
        customer = rng.randrange(1, 200000)
        email = "%s.%s.%d@%s-mail.example.com" % (rng.choice(FIRST), rng.choice(WORDS), customer, rng.choice(WORDS))
        code = rng.choice(CODES) if rng.random() < 0.25 else ""
        lines.append("%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n" % (
            i, customer, created, order_date, amount, quantity, rng.choice(STATUSES), note, email,
            rng.choice(COUNTRIES), "true" if rng.random() < 0.1 else "false", code))
        if len(lines) >= 10000:
            out.write("".join(lines))
            lines = []
    out.write("".join(lines))
    out.close()


def civil(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


if __name__ == "__main__":
    main()
