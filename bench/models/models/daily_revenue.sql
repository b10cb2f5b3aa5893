{{ config(materialized='table') }}
select order_date, count(*) as orders, sum(net) as revenue from {{ ref('orders_enriched') }} group by order_date
