"""The insurance sub-ledger (docs/insurance.md): parties and their current accounts, policies with payment plans,
levies and commissions. Pure domain: no AWS, no environment, no clock reads."""
