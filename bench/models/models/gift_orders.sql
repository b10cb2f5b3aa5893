{{ config(materialized='view') }}
select id, customer_id, amount from {{ ref('stg_orders') }} where is_gift
