// Unit tests of the pure parts of the UI: node --test web/test
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseValue } from "../ui/js/form.js";
import { decodeError } from "../ui/js/api.js";

const field = (kind, extra = {}) => ({ name: "f", kind, type: kind, summary: "", required: false, default: null, example: null, ...extra });

test("empty inputs are left out", () => {
  assert.equal(parseValue(field("string"), "  "), undefined);
  assert.equal(parseValue(field("integer"), ""), undefined);
});

test("numbers are checked", () => {
  assert.equal(parseValue(field("integer"), "42"), 42);
  assert.throws(() => parseValue(field("integer"), "4.2"), /whole number/);
  assert.equal(parseValue(field("number"), "4.5"), 4.5);
  assert.throws(() => parseValue(field("number"), "four"), /must be a number/);
});

test("lists split on commas, maps are JSON objects or YAML flow mappings", () => {
  assert.deepEqual(parseValue(field("list"), "id, name ,"), ["id", "name"]);
  assert.deepEqual(parseValue(field("map"), '{"a": "b"}'), { a: "b" });
  assert.throws(() => parseValue(field("map"), "[1]"), /mapping such as/);
  assert.throws(() => parseValue(field("map"), "{oops"), /mapping such as/);
});

test("booleans come from checkboxes", () => {
  assert.equal(parseValue(field("boolean"), true), true);
  assert.equal(parseValue(field("boolean"), false), false);
});

test("the error envelope becomes an ApiError with its field", () => {
  const error = decodeError(400, '{"error":{"code":"invalid_value","message":"bad port","field":"settings.port","node":null}}');
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_value");
  assert.equal(error.message, "bad port");
  assert.equal(error.field, "settings.port");
  const plain = decodeError(502, "Bad Gateway");
  assert.equal(plain.code, "http_502");
  assert.equal(plain.message, "Bad Gateway");
});

test("a boolean without a default can stay unset", () => {
  assert.equal(parseValue(field("boolean"), ""), undefined);
  assert.equal(parseValue(field("boolean"), "true"), true);
  assert.equal(parseValue(field("boolean"), "false"), false);
});

test("a setting shown in its field reads back unchanged (Apply on an untouched form changes nothing)", async () => {
  const { displayValue } = await import("../ui/js/form.js");
  const cases = [
    [field("list"), ["country"]], [field("list"), ["customer_id", "order_date"]], [field("list"), ["a, b", "c"]], [field("list"), ["N/A", ""]],
    [field("list"), [{ id: 1, status: "paid" }, { id: 2 }]], [field("list"), [1, 2]], [field("list"), ["[x]"]],
    [field("map"), { orders: "count(*)", revenue: "sum(amount)" }], [field("schema"), { amount: "decimal(12,2)", id: "int64" }],
    [field("string"), "status = 'paid'"], [field("integer"), 42], [field("number"), 2.5],
  ];
  for (const [f, value] of cases) {
    assert.deepEqual(parseValue(f, displayValue(f, value)), value, `${f.kind} ${JSON.stringify(value)}`);
    // Applying twice is the same as once.
    assert.deepEqual(parseValue(f, displayValue(f, parseValue(f, displayValue(f, value)))), value);
  }
});

test("YAML's flow style is read where the examples show it", () => {
  assert.deepEqual(parseValue(field("list"), "[id, email]"), ["id", "email"]);
  assert.deepEqual(parseValue(field("list"), "[id, \"a, b\", 'it''s']"), ["id", "a, b", "it's"]);
  assert.deepEqual(parseValue(field("map"), "{orders: \"count(*)\", revenue: sum(amount)}"), { orders: "count(*)", revenue: "sum(amount)" });
  assert.deepEqual(parseValue(field("schema"), "{id: int64, zip: string}"), { id: "int64", zip: "string" });
  assert.deepEqual(parseValue(field("map"), "{where: \"a: b, c\"}"), { where: "a: b, c" });
  assert.throws(() => parseValue(field("map"), "{a: {b: c}}"), /mapping such as/);
  assert.throws(() => parseValue(field("list"), "[a, [b]]"), /must be a list/);
});
