{{ config(materialized='view') }}
select country, revenue, revenue / sum(revenue) over () as share from {{ ref('country_revenue') }}
