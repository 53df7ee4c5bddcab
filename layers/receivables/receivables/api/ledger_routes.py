"""Read routes over the ledger: health, customers, accounts, items."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from receivables import bootstrap
from receivables.api.errors import NOT_FOUND, UnknownIdError, answers
from receivables.api.journal_views import JournalPageView, PostingView, entry_view, posting_views
from receivables.api.params import API_VERSION, IDENTIFIER, IdParam
from receivables.domain.dates import IsoDate
from receivables.domain.ledger import AccountView, CustomerView, ItemView
from receivables.story.summary import CustomerSummary
from receivables.story.timeline import KINDS, TimelinePage, page

router = Router()


class Health(BaseModel):
    status: str
    service: str
    version: str


@router.get("/health", summary="Liveness of the API", responses=answers("OK", errors={}))
def health() -> Health:
    return Health(status="ok", service="receivables", version=API_VERSION)


@router.get(
    "/customers/<customer_id>",
    summary="A customer's master data and accounts",
    responses=answers("The customer", errors=NOT_FOUND),
)
def get_customer(customer_id: IdParam) -> CustomerView:
    customer = bootstrap.ledger_reader().get_customer(customer_id)
    if customer is None:
        raise UnknownIdError(f"customer {customer_id} not found")
    return customer


@router.get(
    "/customers/<customer_id>/summary",
    summary="A customer on one screen: accounts, balances, overdue, stage, payment history, open promises",
    responses=answers("The summary", errors=NOT_FOUND),
)
def get_customer_summary(customer_id: IdParam) -> CustomerSummary:
    summary = bootstrap.stories().summary(customer_id)
    if summary is None:
        raise UnknownIdError(f"customer {customer_id} not found")
    return summary


@router.get(
    "/accounts/<account_id>/timeline",
    summary="The account's whole story in time order, with who did what (paginated, filter by kind and date)",
    responses=answers("A page of the timeline", errors=NOT_FOUND),
)
def get_account_timeline(
    account_id: IdParam,
    kind: Annotated[
        str | None, Query(pattern=r"^[a-z_]+(,[a-z_]+)*$", description=f"Comma-separated, of: {', '.join(KINDS)}")
    ] = None,
    since: Annotated[IsoDate | None, Query(description="Events on or after this business date")] = None,
    until: Annotated[IsoDate | None, Query(description="Events on or before this business date")] = None,
    cursor: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_=-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TimelinePage:
    events = bootstrap.stories().timeline(account_id)
    if events is None:
        raise UnknownIdError(f"account {account_id} not found")
    kinds = frozenset(kind.split(",")) if kind else None
    shown, next_cursor = page(events, kinds=kinds, since=since, until=until, cursor=cursor, limit=limit)
    return TimelinePage(account_id=account_id, events=shown, next_cursor=next_cursor)


@router.get(
    "/accounts/<account_id>",
    summary="An account's balance and its items with open amounts",
    responses=answers("The account", errors=NOT_FOUND),
)
def get_account(account_id: IdParam) -> AccountView:
    account = bootstrap.ledger_reader().get_account(account_id)
    if account is None:
        raise UnknownIdError(f"account {account_id} not found")
    return account


class ItemWithPostings(ItemView):
    postings: list[PostingView] = Field(
        default_factory=list, description="The item's own posting, then every posting that moved its open amount"
    )


@router.get(
    "/items/<item_id>", summary="One receivable item and its postings", responses=answers("The item", errors=NOT_FOUND)
)
def get_item(item_id: IdParam) -> ItemWithPostings:
    item = bootstrap.ledger_reader().get_item(item_id)
    if item is None:
        raise UnknownIdError(f"item {item_id} not found")
    entries, _ = bootstrap.account_journal().page(item.account_id, item_id=item_id, limit=10_000)
    return ItemWithPostings(**dict(item), postings=posting_views(entries, item_id=item_id))


@router.get(
    "/accounts/<account_id>/journal",
    summary="The account's journal: every posting, in the order recorded, a page at a time",
    responses=answers("A page of the journal", errors=NOT_FOUND),
)
def get_account_journal(
    account_id: IdParam,
    since: Annotated[IsoDate | None, Query(description="First business date (inclusive)")] = None,
    until: Annotated[IsoDate | None, Query(description="Last business date (inclusive)")] = None,
    item_id: Annotated[str | None, Query(pattern=IDENTIFIER, description="Only this item's postings")] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JournalPageView:
    if bootstrap.ledger_reader().accounts([account_id]) == {}:
        raise UnknownIdError(f"account {account_id} not found")
    entries, next_cursor = bootstrap.account_journal().page(
        account_id, since=since, until=until, item_id=item_id, after=cursor, limit=limit
    )
    return JournalPageView(account_id=account_id, entries=[entry_view(e) for e in entries], next_cursor=next_cursor)
