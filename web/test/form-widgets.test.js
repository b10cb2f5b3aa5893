// Unit tests of the settings widgets' models, over every field of every node in the catalog: node --test web/test
// The catalog is `sluice nodes --json` (scripts/test writes it and sets SLUICE_CATALOG; otherwise the debug build
// is asked).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { displayValue, parseValue } from "../ui/js/form.js";
import { listFromTags, mapFromPairs, pairsOf, tagsOf, typedTags, widgetOf } from "../ui/js/form-widgets.js";
import { iconNames } from "../ui/js/icons.js";

function catalog() {
  if (process.env.SLUICE_CATALOG) return JSON.parse(readFileSync(process.env.SLUICE_CATALOG, "utf8"));
  const binary = new URL("../../.build/debug/sluice", import.meta.url).pathname;
  assert.ok(existsSync(binary), "build first (swift build) or set SLUICE_CATALOG to the output of `sluice nodes --json`");
  return JSON.parse(execFileSync(binary, ["nodes", "--json"], { encoding: "utf8" }));
}

/** A value of the field's type, as a user would set it (its example when the catalog gives one that parses). */
function sampleOf(field) {
  const byType = {
    "list of string": ["customer_id", "order date", "a, b"], "list of expression": ["amount * 2", "coalesce(a, b)"],
    "list of map of string": [{ name: "x", value: "1" }], "map of string": { old_name: "new name", b: "c: d" },
    "map of expression": { total: "sum(amount)", ratio: "round(a / b, 2)" }, "map of duration": { orders: "5m" },
    "map of list of string": { status: ["paid", "open"] }, "map of map of number": { amount: { min: 0 } },
    "schema (column: type)": { amount: "decimal(12,2)", id: "int64" },
  };
  if (field.type in byType) return byType[field.type];
  switch (field.kind) {
    case "boolean": return true;
    case "integer": return 42;
    case "number": return 2.5;
    case "choice": return field.choices[field.choices.length - 1];
    default: return field.example ?? "x";
  }
}

test("every field of every node reads back the value it shows (in its widget or its text input)", () => {
  let checked = 0;
  for (const spec of catalog()) {
    for (const field of spec.fields) {
      const value = sampleOf(field);
      const widget = widgetOf(field);
      let back;
      if (widget === "tags") back = listFromTags(field, tagsOf(value), "");
      else if (widget === "pairs") back = mapFromPairs(field, pairsOf(value));
      else if (field.kind === "boolean") back = parseValue(field, value);
      else back = parseValue(field, displayValue(field, value));
      assert.deepEqual(back, value, `${spec.id}.${field.name} (${field.type})`);
      checked++;
    }
  }
  assert.ok(checked > 150, `only ${checked} fields`);
});

test("every node's icon is drawn", () => {
  const known = new Set(iconNames());
  for (const spec of catalog()) assert.ok(known.has(spec.icon), `${spec.id}: icon ${spec.icon}`);
});

test("typed text becomes tags: words split at commas, lists in YAML or JSON, an expression stays whole", () => {
  const words = { name: "groupBy", kind: "list", type: "list of string" }, expressions = { name: "expr", kind: "list", type: "list of expression" };
  assert.deepEqual(typedTags(words, "country, status"), ["country", "status"]);
  assert.deepEqual(typedTags(words, "[id, \"a, b\"]"), ["id", "a, b"]);
  assert.deepEqual(typedTags(expressions, "coalesce(a, b) > 0"), ["coalesce(a, b) > 0"]);
  assert.deepEqual(typedTags(expressions, "[\"a > 1\", \"b < 2\"]"), ["a > 1", "b < 2"]);
  assert.equal(listFromTags(words, [], "  "), undefined);
  assert.deepEqual(listFromTags(words, ["a"], "b"), ["a", "b"]);
});

test("key/value rows: a mapping pasted as one key is spread, empty rows are skipped, a repeated or missing name is refused", () => {
  const map = { name: "columns", kind: "map", type: "map of expression" };
  assert.deepEqual(mapFromPairs(map, [{ key: "{a: \"x + 1\", b: y}", value: "", json: false }, { key: "", value: "", json: false }]), { a: "x + 1", b: "y" });
  assert.throws(() => mapFromPairs(map, [{ key: "a", value: "1", json: false }, { key: "a", value: "2", json: false }]), /'a' is given twice/);
  assert.throws(() => mapFromPairs(map, [{ key: "", value: "x", json: false }]), /row 1 needs a name/);
  assert.equal(mapFromPairs(map, []), undefined);
});
