-- Aging as of {as_of}: the newest exported row of each item on or before that day, what is still open, by days past
-- due and {dimension}. Standard SQL that Athena (the Glue tables of the BI export) and DuckDB (views over the same
-- Parquet files, `receivables report aging`) both run as it is.
WITH versions AS (
    SELECT
        i.*,
        row_number() OVER (PARTITION BY item_id ORDER BY CAST("date" AS DATE) DESC) AS newest
    FROM items AS i
    WHERE CAST("date" AS DATE) <= DATE '{as_of}'
),
open_items AS (
    SELECT *, date_diff('day', due_date, DATE '{as_of}') AS days_past_due
    FROM versions
    WHERE newest = 1 AND open_amount > 0
)
SELECT
    COALESCE(CAST({dimension} AS VARCHAR), '(none)') AS {dimension},
    currency,
    CASE
        WHEN days_past_due <= 0 THEN 'not_due'
        WHEN days_past_due <= 30 THEN '1-30'
        WHEN days_past_due <= 60 THEN '31-60'
        WHEN days_past_due <= 90 THEN '61-90'
        WHEN days_past_due <= 180 THEN '91-180'
        WHEN days_past_due <= 360 THEN '181-360'
        ELSE '>360'
    END AS bucket,
    count(*) AS items,
    sum(open_amount) AS open_amount
FROM open_items
GROUP BY 1, 2, 3
ORDER BY 1, 2, min(days_past_due)
