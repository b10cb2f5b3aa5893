{{ config(materialized='table') }}
select email_domain, count(distinct customer_id) as customers from {{ ref('orders_enriched') }} group by email_domain
