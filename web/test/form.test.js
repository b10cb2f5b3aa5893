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

test("lists split on commas, maps are JSON objects", () => {
  assert.deepEqual(parseValue(field("list"), "id, name ,"), ["id", "name"]);
  assert.deepEqual(parseValue(field("map"), '{"a": "b"}'), { a: "b" });
  assert.throws(() => parseValue(field("map"), "[1]"), /JSON object/);
  assert.throws(() => parseValue(field("map"), "{oops"), /JSON object/);
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
