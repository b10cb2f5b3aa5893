{{ config(materialized='table') }}
select country, count(*) as orders, sum(net) as revenue from {{ ref('orders_enriched') }} group by country
