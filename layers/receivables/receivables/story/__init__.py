"""An account's whole story (its timeline) and a customer's summary, for the people who work the accounts."""
