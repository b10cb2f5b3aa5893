{{ config(materialized='incremental', unique_key='id') }}
select id, customer_id, order_date, amount, quantity, status
from {{ ref('stg_orders') }}
{% if is_incremental() %}
where id > (select coalesce(max(id), 0) from {{ this }})
{% endif %}
