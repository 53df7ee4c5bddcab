"""What "answered" means for every reader and validator: a typed answer with a reason, never an exception."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from receivables.banking.profiles import ProfileError
from receivables.banking.statement import BankFileError, ParsedBankFile
from receivables.domain.money import minor_units
from receivables.loading.reader import FileRejectedError

WHOLE_FILE_ERRORS = (BankFileError, FileRejectedError, ProfileError)


def answer[T](call: Callable[[], T]) -> T | Exception:
    """The result, or the typed whole-file error; any other exception fails the test (it propagates)."""
    try:
        return call()
    except WHOLE_FILE_ERRORS as error:
        assert str(error).strip(), f"{type(error).__name__} without a reason"
        return error


def assert_bank_file_answered(result: ParsedBankFile | Exception) -> None:
    if isinstance(result, Exception):
        return
    for rejection in result.rejections:
        assert rejection.reason.strip()
        assert rejection.line is not None and rejection.line >= 1, rejection  # an entry is named by its line
    for transaction in result.transactions:
        amount = transaction.amount
        assert isinstance(amount, Decimal) and amount.is_finite() and amount > 0, transaction
        assert -amount.as_tuple().exponent <= minor_units(transaction.currency), transaction
        assert transaction.line is not None and transaction.line >= 1, transaction
    for warning in result.balance_warnings:
        assert warning.reason.strip() and warning.difference != 0
