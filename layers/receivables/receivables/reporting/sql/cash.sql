-- The cash of {as_of} from the BI export's postings (as GET /reports/cash computes it from the daybook): money
-- received (and of it into suspense), allocated to items, returned, reopened by reversals, and the credit left.
SELECT
    currency,
    sum(CASE WHEN target = 'payment' AND kind = 'payment_received' THEN -amount ELSE 0 END) AS received,
    sum(CASE WHEN target = 'payment' AND kind = 'payment_received' AND account_id = '#suspense' THEN -amount ELSE 0 END)
        AS into_suspense,
    sum(CASE WHEN target = 'item' AND kind IN ('allocation', 'credit_applied', 'unallocation', 'offset', 'netted',
        'refund_applied') THEN -amount ELSE 0 END) AS allocated,
    sum(CASE WHEN target = 'payment' AND kind IN ('payment_returned', 'payment_part_returned') THEN amount ELSE 0 END)
        AS returned,
    sum(CASE WHEN target = 'item' AND kind = 'reversal' THEN amount ELSE 0 END) AS reopened,
    sum(CASE WHEN target = 'payment' AND kind NOT IN ('credit_note', 'payable_posted') THEN -amount ELSE 0 END)
        AS unapplied_change
FROM postings
WHERE CAST("date" AS DATE) = DATE '{as_of}'
    AND kind NOT IN ('item_posted', 'payable_posted', 'premium_adjusted', 'item_cancelled', 'credit_note', 'written_off')
GROUP BY currency
ORDER BY currency
