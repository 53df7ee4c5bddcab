"""Billing adjustments (fatura tutar düzeltme): credit notes, debit notes, write-offs, cancellations and due-date
changes that billing and payment systems send for items already loaded, by file (``adjustments/``) or by API."""
