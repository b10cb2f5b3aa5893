{{ config(materialized='view') }}
select least(quantity, 10) as bucket, count(*) as orders from {{ ref('stg_orders') }} group by 1
