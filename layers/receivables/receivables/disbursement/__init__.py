"""Money out: approved payables paid by bank file (pain.001), and the bank's answers back (docs/payables.md)."""
