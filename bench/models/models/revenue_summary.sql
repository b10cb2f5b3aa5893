{{ config(materialized='view') }}
select month, revenue, revenue - lag(revenue) over (order by month) as change from {{ ref('monthly_revenue') }}
