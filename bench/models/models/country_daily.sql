{{ config(materialized='table') }}
select country, order_date, count(*) as orders, sum(net) as revenue from {{ ref('orders_enriched') }} group by country, order_date
