-- materialized: table
-- One row per courier and day.
select
    courier,
    picked_up_at::date as day,
    count(*) as deliveries,
    count(*) filter (where status = 'delivered') as on_time,
    count(*) filter (where status = 'late') as late,
    count(*) filter (where status in ('failed', 'returned')) as not_delivered,
    round(avg(minutes), 1) as avg_minutes,
    sum(fee_eur) as fees_eur
from {{ ref('deliveries') }}
group by courier, picked_up_at::date
