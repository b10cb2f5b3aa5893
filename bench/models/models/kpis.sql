{{ config(materialized='table') }}
select (select sum(revenue) from {{ ref('daily_revenue') }}) as revenue, (select count(*) from {{ ref('customer_totals') }}) as customers,
       (select count(*) from {{ ref('top_customers') }}) as top_customers, (select count(*) from {{ ref('orders_incremental') }}) as orders_loaded
