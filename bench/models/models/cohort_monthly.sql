{{ config(materialized='table') }}
select date_trunc('month', f.first_order)::date as cohort, o.month, count(*) as orders, sum(o.net) as revenue
from {{ ref('orders_enriched') }} o join {{ ref('customer_first_order') }} f using (customer_id)
group by 1, 2
