"""What `local up` prints for each dropped file: bank files too, from the events operators see in AWS."""

from __future__ import annotations

from receivables_local.outcomes import file_outcomes, one_line


def event(source: str, detail_type: str, **detail: object) -> dict[str, object]:
    return {"source": source, "detail-type": detail_type, "detail": detail}


def test_a_bank_file_reports_what_became_of_its_entries_and_its_rejections() -> None:
    key = "banks/garanti/camt053-20261203.xml"
    loaded = event(
        "receivables.payments",
        "BankFileLoaded",
        file=key,
        bank_id="garanti",
        format="camt.053",
        outcomes={"applied": 3, "suspense": 1},
        rejected=1,
        report="rejected/banks/garanti/camt053-20261203.xml.abc.errors.csv",
        balance_warnings=["opening 100.00 + entries 50.00 ≠ closing 120.00"],
    )
    (outcome,) = file_outcomes([loaded]).values()
    assert one_line(outcome) == (
        f"{key}: camt.053: 3 applied, 1 suspense; out of balance: opening 100.00 + entries 50.00 ≠ closing 120.00; "
        "1 entries rejected (report: rejected/banks/garanti/camt053-20261203.xml.abc.errors.csv)"
    )


def test_an_unreadable_bank_file_and_a_statement_out_of_balance_are_reported() -> None:
    rejected = event(
        "receivables.payments",
        "FileRejected",
        file="banks/x/a.bin",
        kind="bank",
        reason="not a bank file",
        quarantined_as="quarantine/banks/x/a.bin",
    )
    warning = event("receivables.payments", "BankStatementOutOfBalance", file="banks/x/b.xml", reason="off by 7.00")
    lines = [one_line(o) for o in file_outcomes([rejected, warning]).values()]
    assert lines == [
        "banks/x/a.bin: rejected — not a bank file; moved to quarantine/banks/x/a.bin",
        "banks/x/b.xml: statement out of balance — off by 7.00",
    ]


def test_other_sources_are_not_file_outcomes() -> None:
    assert file_outcomes([event("receivables.dunning", "DunningReviewRequested", file="x")]) == {}
