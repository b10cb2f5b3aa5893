// Unit tests of the expression editor's pure parts: node --test web/test
import { test } from "node:test";
import assert from "node:assert/strict";
import { completionAt, errorSpan, tokenize } from "../ui/js/expression-input.js";

const functions = [{ name: "coalesce", summary: "first non-null", min_arguments: 1, max_arguments: 99 }, { name: "concat", summary: "joins", min_arguments: 1, max_arguments: 99 },
  { name: "round", summary: "rounds", min_arguments: 1, max_arguments: 2 }];

test("tokens cover every character and are classed", () => {
  const text = "status = 'it''s' AND round(amount, 2) > 1.5 OR \"order id\" IN (${min})";
  const tokens = tokenize(text);
  assert.equal(tokens.map((t) => t.text).join(""), text);
  const kinds = Object.fromEntries(tokens.filter((t) => t.kind !== "space").map((t) => [t.text, t.kind]));
  assert.equal(kinds["status"], "column");
  assert.equal(kinds["'it''s'"], "string");
  assert.equal(kinds["AND"], "keyword");
  assert.equal(kinds["round"], "function");
  assert.equal(kinds["1.5"], "number");
  assert.equal(kinds['"order id"'], "column");
  assert.equal(kinds["${min}"], "param");
  assert.equal(kinds[">"], "operator");
  assert.equal(tokenize("'open").at(-1).kind, "string");
});

test("completion offers columns, then functions, for the word at the caret", () => {
  const columns = ["amount", "country", "order id"];
  const at = completionAt("co", 2, columns, functions);
  assert.deepEqual(at.options.map((o) => o.insert), ["country", "coalesce(", "concat("]);
  assert.equal(at.from, 0);
  assert.equal(at.to, 2);
  assert.equal(completionAt("amount > 1", 10, columns, functions), null, "nothing after a number");
  assert.equal(completionAt("x = 'co", 7, columns, functions), null, "nothing inside a string");
  assert.deepEqual(completionAt("a + ", 4, columns, functions, true).options.map((o) => o.insert).slice(0, 3), ["amount", "country", '"order id"']);
  assert.equal(completionAt("amount", 6, columns, functions), null, "a complete name offers nothing more");
  const middle = completionAt("amo > 1", 2, columns, functions);
  assert.deepEqual([middle.from, middle.to], [0, 3], "the whole word is replaced");
});

test("an error's span and message come from the server's text", () => {
  const unknown = errorSpan("unknown column 'nope'; available columns: a (at column 11-14)\n  a > 1 AND nope = 2\n            ^^^^");
  assert.deepEqual(unknown.span, { start: 10, end: 14 });
  assert.equal(unknown.text, "unknown column 'nope'; available columns: a (column 11–14)");
  const early = errorSpan("expression ends too early: expected a value (at column 4)\n  a >\n     ^");
  assert.deepEqual(early.span, { start: 3, end: 4 });
  assert.deepEqual(errorSpan("where is required"), { text: "where is required", span: null });
});
