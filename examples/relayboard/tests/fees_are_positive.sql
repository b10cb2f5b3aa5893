-- A delivery never costs nothing.
select delivery_id, fee_eur from {{ ref('deliveries') }} where fee_eur <= 0
