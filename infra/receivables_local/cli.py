"""``receivables``: the local stack, the demo and the day-by-day simulator."""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from receivables_local import dlq
from receivables_local.embedded import EmbeddedStack, StackError
from receivables_local.http_api import ApiGateway, HttpApi
from receivables_local.people import LocalUserPool
from receivables_local.reports import report_app
from receivables_local.scenario import ScenarioError, simulate
from receivables_local.serve import ServeLoop, business_today
from receivables_local.session import LocalSession

app = typer.Typer(
    name="receivables",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Receivables platform on an embedded local AWS (moto server + DynamoDB Local): no account needed.",
)
local_app = typer.Typer(no_args_is_help=True, help="The embedded local stack.")
app.add_typer(local_app, name="local")
user_app = typer.Typer(no_args_is_help=True, help="People who sign in to the local stack (moto's Cognito).")
local_app.add_typer(user_app, name="user")
dlq_app = typer.Typer(
    no_args_is_help=True,
    help="Dead-letter queues, local or in AWS: what failed every retry, looked at and sent back (docs/operations.md).",
)
app.add_typer(dlq_app, name="dlq")
app.add_typer(report_app, name="report")

console = Console()
errors = Console(stderr=True)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


@local_app.command("up")
def up(
    port: Annotated[int, typer.Option(help="Port of the REST API on 127.0.0.1.")] = 8000,
    business_date: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            show_default=False,
            help="Pin the business date (default: today in Europe/Istanbul, following the clock).",
        ),
    ] = None,
    fire_schedules: Annotated[
        bool, typer.Option(help="Fire every schedule once right after start instead of waiting for its time.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="Level of the handler logs in .local/logs/functions.log.")] = "INFO",
) -> None:
    """Start the stack and the runtime in the foreground: files dropped into the inbound bucket are processed,
    the API is served, schedules fire at their time. Ctrl-C stops everything."""
    pinned = _day(business_date)
    today = pinned or business_today()
    try:
        stack = EmbeddedStack()
    except StackError as exc:  # Java or the DynamoDB Local jar missing
        raise _fail(str(exc)) from None
    try:
        with console.status("Starting moto server and DynamoDB Local…"):
            stack.start()
        with LocalSession(stack, today, log_level=log_level) as session:
            try:
                api = HttpApi(
                    ApiGateway(session.topology, session.runtime.invoker, LocalUserPool(session.stack.clients())),
                    port=port,
                )
            except OSError as exc:
                raise _fail(f"cannot serve the API on 127.0.0.1:{port} ({exc.strerror}); try --port") from None
            with api:
                _print_endpoints(session, api.url)
                loop = ServeLoop(session, pinned_date=pinned, fire_now=fire_schedules, say=_say)
                try:
                    loop.run_forever()
                except KeyboardInterrupt:
                    console.print("\nstopping…")
    except StackError as exc:
        raise _fail(str(exc)) from None
    finally:
        stack.stop()
    console.print("stopped")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The person's user name (the actor their changes record).")],
    group: Annotated[str, typer.Option(help="collector, supervisor, finance or admin.")],
    endpoint_url: Annotated[
        str | None,
        typer.Option(help="moto server of the `local up` stack (default: AWS_ENDPOINT_URL, as `local up` prints)."),
    ] = None,
) -> None:
    """Create (or find) the person in the group and print their ID token: send it as
    `Authorization: Bearer <token>` to the local REST API, which checks it as API Gateway's Cognito authorizer does."""
    import os

    import boto3

    from receivables_local.embedded import DUMMY_CREDENTIALS, REGION
    from receivables_local.people import UnknownGroupError

    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise _fail("no moto endpoint: pass --endpoint-url (the `AWS (moto server)` line of `local up`)")
    session = boto3.session.Session(region_name=REGION, **DUMMY_CREDENTIALS)
    pool = LocalUserPool(lambda service: session.client(service, endpoint_url=endpoint))
    try:
        token = pool.add_user(name, group)
    except UnknownGroupError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # the stack is not running there
        raise _fail(f"cannot reach the local user pool at {endpoint}: {exc}") from None
    print(token)


def _say(message: str) -> None:
    console.print(f"[dim]{datetime.now():%H:%M:%S}[/] {message}")


def _print_endpoints(session: LocalSession, api_url: str) -> None:
    endpoints = session.stack.endpoints
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("REST API", api_url)
    table.add_row("AWS (moto server)", endpoints.aws)
    table.add_row("DynamoDB Local", endpoints.dynamodb)
    table.add_row("region", endpoints.region)
    table.add_row("business date", f"{session.business_date}")
    for logical, name in session.resources.buckets.items():
        table.add_row(f"bucket {logical}", name)
    table.add_row("table", session.resources.table)
    table.add_row("event bus", session.resources.bus)
    table.add_row("handler logs", str(session.log_path))
    console.print(table)
    inbound = session.inbound_bucket
    console.print(
        "\nDrop a file (any credentials work, e.g. AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x):\n"
        f"  aws --endpoint-url {endpoints.aws} --region {endpoints.region} "
        f"s3 cp invoices.csv s3://{inbound}/invoices/invoices.csv\n"
        f"  curl {api_url}/accounts/<account_id>\n"
        "Ctrl-C to stop.\n"
    )


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, max=200_000, help="Customers in the sample portfolio.")] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the generator: same seed, same files.")] = 7,
    business_date: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], show_default=False, help="Default: today in Europe/Istanbul."),
    ] = None,
    serve: Annotated[
        bool | None,
        typer.Option(
            show_default=False,
            help="Keep serving the API after the summary (default: when run in a terminal).",
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port of the REST API (0: any free port).")] = 0,
    insurance: Annotated[
        bool, typer.Option(help="Then replay the insurance portfolio (ten weeks of policies; about two minutes).")
    ] = True,
) -> None:
    """Generate a sample portfolio (with deliberate mistakes), load it end to end, summarise; then an insurer's."""
    from receivables_local.demo import run_demo  # rich rendering and the generator load only for this command

    try:
        code = run_demo(
            console,
            customers=customers,
            seed=seed,
            business_date=_day(business_date) or business_today(),
            serve=sys.stdout.isatty() if serve is None else serve,
            port=port,
            insurance=insurance,
        )
    except StackError as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@app.command("simulate")
def simulate_command(
    scenario_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="Folders YYYY-MM-DD/<inbound key> of files.")
    ],
    until: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last business day to simulate.")],
    out: Annotated[Path, typer.Option(help="Where to write STATE.json.")],
    chaos: Annotated[
        int | None,
        typer.Option(
            metavar="SEED",
            help="Replay with faults injected deterministically from SEED: duplicated, reordered and redelivered "
            "messages, crashed handlers, throttling, transaction conflicts (docs/reliability.md).",
        ),
    ] = None,
) -> None:
    """Replay a scenario day by day on a fresh embedded stack and write the resulting STATE.json."""
    try:
        with console.status("Simulating…") as status:
            result = simulate(
                scenario_dir,
                until.date(),
                out,
                on_day=lambda day, files: status.update(f"Simulated {day} ({files} files)"),
                chaos=chaos,
            )
    except ScenarioError as exc:
        raise _fail(str(exc), code=2) from None
    except StackError as exc:
        raise _fail(str(exc)) from None
    state = result.state
    console.print(
        f"{out}: {len(state['accounts'])} accounts, {len(state['items'])} items, "
        f"{len(state['rejections'])} rejections as of {state['as_of']} "
        f"({result.days} days, {result.files} files, {result.invocations} invocations)"
    )
    if result.faults:
        console.print("chaos: " + ", ".join(f"{n} {what}" for what, n in sorted(result.faults.items())))
    problems = result.failures + [f"{n} message(s) in the DLQ of {q}" for q, n in result.dead_letters.items()]
    problems += [f"verify: {difference}" for difference in result.differences]
    for problem in problems:
        errors.print(f"[red]failure:[/] {problem}")
    if problems:
        errors.print("See .local/logs/functions.log. STATE.json was written anyway.")
        raise typer.Exit(1)


gl_app = typer.Typer(no_args_is_help=True, help="The general-ledger export (docs/general-ledger.md).")
app.add_typer(gl_app, name="gl")


@gl_app.command("show")
def gl_show_command(
    day: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="The business date exported.")],
    outbound: Annotated[
        Path | None,
        typer.Option(help="A copy of the outbound bucket (simulate writes one beside STATE.json); default: ./outbound"),
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(help="Read the outbound bucket itself instead (e.g. the `local up` stack's).")
    ] = None,
    endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint for --bucket.")] = None,
) -> None:
    """Print the day's double-entry lines from gl/<date>/journal.parquet, with the totals per currency."""
    from receivables.adapters.general_ledger import read_journal_parquet
    from rich.table import Table

    name = f"gl/{day.date().isoformat()}/journal.parquet"
    if bucket:
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint_url) if endpoint_url else boto3.client("s3")
        try:
            body = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
        except Exception as exc:
            raise _fail(f"cannot read s3://{bucket}/{name}: {exc}") from None
    else:
        path = (outbound or Path("outbound")) / name
        if not path.is_file():
            raise _fail(f"{path} does not exist: no export for {day.date()} there (run simulate, or pass --bucket)")
        body = path.read_bytes()
    rows = read_journal_parquet(body)
    table = Table("entry", "account", "name", "party", "debit", "credit", "currency", "posting", "on")
    totals: dict[str, list[Decimal]] = {}
    for row in rows:
        table.add_row(
            str(row["entry_id"])[-8:],
            row["gl_account"],
            row["gl_account_name"],
            row["party"],
            f"{row['debit']:.2f}",
            f"{row['credit']:.2f}",
            row["currency"],
            row["posting_kind"],
            row["target_id"],
        )
        total = totals.setdefault(row["currency"], [Decimal(0), Decimal(0)])
        total[0] += row["debit"]
        total[1] += row["credit"]
    console.print(table)
    for currency, (debit, credit) in sorted(totals.items()):
        state = "balanced" if debit == credit else "NOT BALANCED"
        console.print(
            f"{currency}: {len([r for r in rows if r['currency'] == currency])} lines, debit {debit:.2f}, "
            f"credit {credit:.2f} — {state}"
        )
    if any(debit != credit for debit, credit in totals.values()):
        raise typer.Exit(1)


@app.command("verify")
def verify_command(
    table: Annotated[
        str | None,
        typer.Option(help="The ledger table (default: the `local up` stack's; in AWS, the deployed table's name)."),
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, else AWS itself).")
    ] = None,
) -> None:
    """Recompute every account's open amounts, unapplied credit and balance from the journal and compare them with
    the stored state. Prints each difference with its account and item; exits 1 if there is one."""
    import boto3
    from receivables.adapters.verification import LedgerVerifier

    from receivables_local.session import DEFAULT_PREFIX

    client = boto3.client("dynamodb", endpoint_url=endpoint_url) if endpoint_url else boto3.client("dynamodb")
    try:
        report = LedgerVerifier(client, table or f"{DEFAULT_PREFIX}-ledger").verify()
    except Exception as exc:  # no table, no endpoint, no credentials: say which
        raise _fail(f"cannot read the ledger: {exc}") from None
    for difference in report.differences:
        console.print(difference.describe())
    console.print(
        f"{report.accounts} accounts, {report.items} items, {report.payments} payments, {report.entries} journal "
        f"entries: " + ("verified" if report.verified else f"{len(report.differences)} difference(s)")
    )
    if not report.verified:
        raise typer.Exit(1)


@dlq_app.command("list")
def dlq_list_command(
    endpoint_url: dlq.EndpointUrl = None,
    profile: dlq.Profile = None,
    region: dlq.Region = None,
    prefix: dlq.Prefix = None,
) -> None:
    """Every dead-letter queue of the topology: its messages, what failed them and how they go back."""
    with dlq.reported_errors(errors):
        desk = dlq.connect(endpoint_url, profile, region, prefix)
        dlq.print_status(console, desk, desk.status())


@dlq_app.command("show")
def dlq_show_command(
    name: dlq.DlqName,
    max_messages: dlq.MaxMessages = 10,
    endpoint_url: dlq.EndpointUrl = None,
    profile: dlq.Profile = None,
    region: dlq.Region = None,
    prefix: dlq.Prefix = None,
) -> None:
    """Print a DLQ's messages (id, sent, receive count, body) and leave them where they are."""
    with dlq.reported_errors(errors):
        desk = dlq.connect(endpoint_url, profile, region, prefix)
        queue = desk.dead_letter_queue(name)
        dlq.print_letters(console, queue, desk.peek(queue, max_messages), dlq.BODY_LIMIT)


@dlq_app.command("redrive")
def dlq_redrive_command(
    name: dlq.DlqName,
    max_messages: dlq.MaxMessages = 100,
    yes: dlq.Yes = False,
    endpoint_url: dlq.EndpointUrl = None,
    profile: dlq.Profile = None,
    region: dlq.Region = None,
    prefix: dlq.Prefix = None,
) -> None:
    """Send a DLQ's messages back where they go: to its queue, or onto the bus.

    Each message is deleted from the DLQ only once it is there; exits 1 if one could not be moved."""
    with dlq.reported_errors(errors):
        desk = dlq.connect(endpoint_url, profile, region, prefix)
        queue = desk.dead_letter_queue(name)
        question = desk.redrive_question(queue, max_messages)
        if not yes:
            typer.confirm(question, abort=True)
        report = desk.redrive(queue, max_messages)
        dlq.print_report(console, queue, report)
    if report.failed:
        raise typer.Exit(1)


def main() -> None:
    app()
