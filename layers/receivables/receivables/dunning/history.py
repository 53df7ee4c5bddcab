"""What dunning did for one account and why, as the API shows it (``GET /accounts/{account_id}/dunning``): the state
the review keeps with the latest decision's explanation, the account's latest cycles with the explanation of each
change of their stage, and the steps carried out in them, each with the explanation of the decision that took it.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from receivables.dunning.engine import DunningState
from receivables.dunning.records import ContactRecord, CycleRecord, Explanation

MAX_CYCLES_SHOWN = 20


class AccountDunning(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    state: DunningState = Field(description="What the review keeps between runs (a fresh state when never reviewed)")
    next_action_on: dt.date | None = Field(description="When the account is reviewed next; None: nothing is due")
    explanation: Explanation | None = Field(description="Why the latest review decided what it did")
    cycles: tuple[CycleRecord, ...] = Field(description="The latest cycles, newest first")
    contacts: tuple[ContactRecord, ...] = Field(
        description="The steps carried out in those cycles, oldest first; a deferred SMS's text is not shown"
    )
