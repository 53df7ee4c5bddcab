"""Bank files in: every format is parsed into the same :class:`~receivables.banking.statement.BankTransaction`."""
