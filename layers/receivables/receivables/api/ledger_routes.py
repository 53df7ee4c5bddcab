"""Read routes over the ledger: health, customers, accounts, items."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from pydantic import BaseModel

from receivables import bootstrap
from receivables.api.errors import NOT_FOUND
from receivables.api.params import API_VERSION, IdParam
from receivables.domain.ledger import AccountView, CustomerView, ItemView

router = Router()


class Health(BaseModel):
    status: str
    service: str
    version: str


@router.get("/health", summary="Liveness of the API", responses={200: {"description": "OK"}})
def health() -> Health:
    return Health(status="ok", service="receivables", version=API_VERSION)


@router.get("/customers/<customer_id>", summary="A customer's master data and accounts", responses=NOT_FOUND)
def get_customer(customer_id: IdParam) -> CustomerView:
    customer = bootstrap.ledger_reader().get_customer(customer_id)
    if customer is None:
        raise NotFoundError(f"customer {customer_id} not found")
    return customer


@router.get(
    "/accounts/<account_id>", summary="An account's balance and its items with open amounts", responses=NOT_FOUND
)
def get_account(account_id: IdParam) -> AccountView:
    account = bootstrap.ledger_reader().get_account(account_id)
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


@router.get("/items/<item_id>", summary="One receivable item", responses=NOT_FOUND)
def get_item(item_id: IdParam) -> ItemView:
    item = bootstrap.ledger_reader().get_item(item_id)
    if item is None:
        raise NotFoundError(f"item {item_id} not found")
    return item
