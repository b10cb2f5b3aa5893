{{ config(materialized='table') }}
select *, amount * quantity as gross, case when discount_code is null then amount * quantity else amount * quantity * 0.9 end as net,
       split_part(email, '@', 2) as email_domain, date_trunc('month', order_date)::date as month
from {{ ref('stg_orders') }}
