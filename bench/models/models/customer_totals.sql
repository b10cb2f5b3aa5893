{{ config(materialized='table') }}
select customer_id, count(*) as orders, sum(net) as revenue, max(order_date) as last_order from {{ ref('orders_enriched') }} group by customer_id
