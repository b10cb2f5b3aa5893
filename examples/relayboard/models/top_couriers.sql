-- The latest day's leaderboard.
select
    courier,
    deliveries,
    round(100.0 * on_time / deliveries, 1) as on_time_pct,
    fees_eur
from {{ ref('courier_daily') }}
where day = (select max(day) from {{ ref('courier_daily') }})
