{{ config(materialized='table') }}
select coalesce(discount_code, 'none') as discount_code, count(*) as orders, avg(amount) as average_amount from {{ ref('orders_enriched') }} group by 1
