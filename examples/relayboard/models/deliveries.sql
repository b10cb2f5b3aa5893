{{ config(materialized='incremental', unique_key='delivery_id') }}
-- Every delivery ever seen, one row each: a day's file adds new deliveries and replaces corrected ones.
select
    s.*,
    round((extract(epoch from (s.delivered_at - s.picked_up_at)) / 60)::numeric, 1) as minutes
from {{ ref('stg_deliveries') }} s
{% if is_incremental() %}
where s.updated_at > (select coalesce(max(updated_at), '1970-01-01') from {{ this }})
{% endif %}
