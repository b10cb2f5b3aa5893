{{ config(materialized='view') }}
select id, customer_id, created_at, order_date, amount, quantity, lower(status) as status, email, country, is_gift, discount_code
from {{ source('staging', 'orders') }}
where amount is not null
