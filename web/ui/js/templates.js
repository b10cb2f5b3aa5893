// @ts-check
// Pipelines to start from (the empty Pipelines page offers them): the example `sluice init` writes, with its
// sample data, and the shapes most pipelines take. `__DATA__` in a template is the path of its sample file.

/**
 * @typedef {{id: string, title: string, summary: string, yaml: string, sample?: {name: string, text: string}}} PipelineTemplate
 */

/** @type {PipelineTemplate[]} */
export const templates = [
  {
    id: "example",
    title: "Example: paid orders by country",
    summary: "What sluice init writes: read a CSV, filter, compute, aggregate, write a CSV. Its sample data is uploaded to your folder.",
    sample: {
      name: "sample-orders.csv",
      text: "id,customer_id,created_at,amount,status,country\n1,101,2024-03-01T09:15:00+01:00,120.50,paid,DE\n2,102,2024-03-01T10:02:11+01:00,35.00,paid,FR\n"
        + "3,103,2024-03-02T14:45:30-05:00,310.99,shipped,US\n4,101,2024-03-02T16:20:00+01:00,89.90,paid,DE\n5,104,2024-03-03T08:00:00+01:00,N/A,paid,FR\n"
        + "6,105,2024-03-03T11:30:00+01:00,64.00,refunded,DE\n",
    },
    yaml: `apiVersion: sluice/v1
name: paid-orders-by-country
description: Totals of paid orders over a minimum amount, per country.
parameters:
  minAmount: { type: float64, default: 50 }
settings: { onRecordError: reject, maxRejected: 100 }
nodes:
  - { id: orders, type: csv.read, settings: { path: __DATA__, schema: { amount: float64 } } }
  - { id: paid, type: filter, settings: { where: "status = 'paid' AND amount > \${minAmount}" } }
  - { id: taxed, type: compute, settings: { columns: { amount_with_tax: "round(amount * 1.2, 2)" } } }
  - id: totals
    type: aggregate
    settings: { groupBy: [country], aggregates: { orders: "count(*)", revenue: "sum(amount)", revenue_with_tax: "sum(amount_with_tax)" } }
  - { id: save, type: csv.write, settings: { path: out/paid_by_country.csv } }
edges:
  - { from: orders.out, to: paid.in }
  - { from: paid.out, to: taxed.in }
  - { from: taxed.out, to: totals.in }
  - { from: totals.out, to: save.in }
`,
  },
  {
    id: "csv-to-postgres",
    title: "CSV file → PostgreSQL table",
    summary: "Load a CSV file into a table; bad rows are rejected and kept. Name your own file and connection.",
    yaml: `apiVersion: sluice/v1
name: load-orders
settings: { onRecordError: reject }
nodes:
  - { id: file, type: csv.read, settings: { path: uploads/orders.csv } }
  - { id: load, type: postgres.write, settings: { connection: warehouse, table: public.orders, mode: append } }
edges:
  - { from: file.out, to: load.in }
`,
  },
  {
    id: "incremental-copy",
    title: "Incremental table copy",
    summary: "Copy only what changed since the last run, exactly once: the cursor commits with the rows.",
    yaml: `apiVersion: sluice/v1
name: sync-orders
nodes:
  - { id: source, type: postgres.read, settings: { connection: production, table: public.orders, mode: incremental, cursor: updated_at, key: [id] } }
  - { id: target, type: postgres.write, settings: { connection: warehouse, table: analytics.orders, mode: merge, key: [id], schemaDrift: evolve } }
edges:
  - { from: source.out, to: target.in }
`,
  },
  {
    id: "api-to-file",
    title: "REST API → JSON Lines file",
    summary: "Page through an API's records and keep them as a JSON Lines file, replaced atomically at each run.",
    yaml: `apiVersion: sluice/v1
name: export-contacts
nodes:
  - { id: api, type: http.read, settings: { connection: crm, path: /v1/contacts, records: data.items } }
  - { id: file, type: jsonl.write, settings: { path: out/contacts.jsonl } }
edges:
  - { from: api.out, to: file.in }
`,
  },
];
