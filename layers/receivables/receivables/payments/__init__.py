"""Payments: payer matching and allocation of money to open items (pure domain)."""
