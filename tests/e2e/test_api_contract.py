"""schemathesis against the running local API, from the committed ``docs/openapi.json``: whatever a client that
reads the document may send, the server answers without a 5xx, with a status the document lists, in the content
type and the schema it documents (every 4xx in the one error shape).

One test per operation; each sends a bounded number of generated requests (``API_CONTRACT_EXAMPLES``, 25 by
default; the same ones every run unless ``API_CONTRACT_RANDOM`` is set), valid and invalid, to the local REST API
over HTTP, on a stack holding customers, invoices, a payment in suspense and a
collector task, so that generated ids sometimes name real records."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from receivables_local.embedded import EmbeddedStack
from receivables_local.handlers import HandlerRegistry
from receivables_local.http_api import ApiGateway, HttpApi
from receivables_local.session import LocalSession
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("API_CONTRACT_EXAMPLES", "25"))
RANDOM = os.environ.get("API_CONTRACT_RANDOM")
BUSINESS_DATE = date(2026, 11, 24)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,  # what the document forbids is refused with a 4xx, never taken
]

schema = schemathesis.openapi.from_path(DOCUMENT)

CUSTOMERS = """\
customer_id,name,email,phone,language,segment,iban
C1,Ayşe Yılmaz,ayse@example.com,+905321112233,tr,retail,TR330006100519786457841326
C2,Mehmet Kaya,mehmet@example.com,+905339998877,tr,retail,
"""
INVOICES = """\
invoice_id,customer_id,account_id,subscription_id,issue_date,due_date,amount,currency,description
I1,C1,A1,S1,2026-10-01,2026-10-15,100.50,TRY,Ekim
I2,C1,A1,S1,2026-11-01,2026-11-15,20.00,TRY,Kasım
I3,C2,A2,,2026-10-02,2026-10-30,75.25,TRY,
"""
UNMATCHED_CAMT054 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>N1</MsgId><CreDtTm>2026-11-24T10:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1-1</Id><Acct><Id><IBAN>TR320010009999901234567890</IBAN></Id></Acct>
<Ntry><Amt Ccy="TRY">40.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt><AcctSvcrRef>REF-1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>no reference we know</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"""


@pytest.fixture(scope="module")
def api_url(stack: EmbeddedStack) -> Iterator[str]:
    """One stack for the module: every operation's requests land on the same data (and on what earlier ones made)."""
    stack.reset()
    with LocalSession(stack, BUSINESS_DATE, registry=HandlerRegistry()) as session:
        for key, body in (
            ("customers/c.csv", CUSTOMERS.encode()),
            ("invoices/i.csv", INVOICES.encode()),
            ("banks/garanti/n.xml", UNMATCHED_CAMT054),
        ):
            session.upload(key, body)
            session.runtime.run_until_idle()
        with HttpApi(ApiGateway(session.topology, session.runtime.invoker)) as server:
            yield server.url


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=RANDOM is None,  # the same requests every run: a failure in make test is reproducible, not a flake
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_keeps_the_documented_contract(case: schemathesis.Case, api_url: str) -> None:
    case.call_and_validate(base_url=api_url, checks=CHECKS)
