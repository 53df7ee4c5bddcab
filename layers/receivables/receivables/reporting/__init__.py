"""Reports computed without a table scan: from records the events keep current (dunning cycles, the suspense
index, the general-ledger daybook the stream fills), a payment reflected within a minute of its processing."""
