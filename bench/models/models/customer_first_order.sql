{{ config(materialized='table') }}
select customer_id, min(order_date) as first_order from {{ ref('orders_enriched') }} group by customer_id
