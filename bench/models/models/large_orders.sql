{{ config(materialized='table') }}
select id, customer_id, order_date, gross from {{ ref('orders_enriched') }} where gross > 500
