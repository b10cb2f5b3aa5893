{{ config(materialized='table') }}
select customer_id, orders, revenue from {{ ref('customer_totals') }} order by revenue desc limit 1000
