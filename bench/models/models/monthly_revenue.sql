{{ config(materialized='table') }}
select date_trunc('month', order_date)::date as month, sum(orders) as orders, sum(revenue) as revenue from {{ ref('daily_revenue') }} group by 1
