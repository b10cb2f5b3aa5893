-- materialized: view
-- The day's partner file as loaded into staging, cleaned: names trimmed, statuses lower-case, a missing city named.
select
    delivery_id,
    trim(courier) as courier,
    coalesce(nullif(trim(city), ''), 'unknown') as city,
    picked_up_at,
    delivered_at,
    distance_km,
    fee_eur,
    lower(status) as status,
    updated_at
from {{ source('staging', 'deliveries') }}
