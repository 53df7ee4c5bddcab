"""A sample portfolio for the demo: customers and invoices as a billing/CRM system would drop them, plus
mistakes.

Deterministic for a seed and business date. Most rows are valid; a known handful are wrong in the ways real
files are wrong (each listed in :attr:`Portfolio.planted`), and one file is not a data file at all.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from schwifty import IBAN

TURKISH_FIRST = (
    "Ayşe",
    "Mehmet",
    "Fatma",
    "Mustafa",
    "Emine",
    "Ahmet",
    "Hatice",
    "Ali",
    "Zeynep",
    "Hüseyin",
    "Elif",
    "Hasan",
    "Şule",
    "İbrahim",
    "Özlem",
    "Çağrı",
    "Gökhan",
    "Büşra",
    "Oğuz",
    "Ümit",
    "Merve",
    "Emre",
    "Gülşen",
    "Serkan",
)
TURKISH_LAST = (
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Yıldırım",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
    "Aslan",
    "Çetin",
    "Kara",
    "Koç",
    "Kurt",
    "Özkan",
    "Şimşek",
    "Erdoğan",
    "Güneş",
)
ENGLISH_FIRST = ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "James", "Sophie")
ENGLISH_LAST = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Evans",
    "Thomas",
)
COMPANY_SECTORS = ("Gıda", "Lojistik", "Tekstil", "İnşaat", "Bilişim", "Turizm", "Enerji", "Otomotiv")
COMPANY_SUFFIXES = ("A.Ş.", "Ltd. Şti.", "San. ve Tic. A.Ş.")
CITIES = (
    ("İstanbul", 30),
    ("Ankara", 12),
    ("İzmir", 9),
    ("Bursa", 6),
    ("Antalya", 5),
    ("Konya", 4),
    ("Adana", 4),
    ("Gaziantep", 3),
    ("Kayseri", 3),
    ("Eskişehir", 3),
    ("Trabzon", 2),
    ("Diyarbakır", 2),
    ("Samsun", 2),
    ("Mersin", 3),
)
BANK_CODES = ("00010", "00012", "00015", "00046", "00062", "00064", "00067", "00111")
MOBILE_PREFIXES = (
    "530",
    "532",
    "533",
    "535",
    "536",
    "541",
    "542",
    "543",
    "544",
    "505",
    "506",
    "551",
    "552",
    "555",
)
SEGMENTS = ("consumer", "youth", "family", "sme", "enterprise", "public")
EMAIL_DOMAINS = ("example.com", "example.com.tr", "example.org")
_ASCII = str.maketrans("çğıİöşüÇĞÖŞÜ", "cgiiosuCGOSU")

CUSTOMER_COLUMNS = (
    "customer_id",
    "name",
    "type",
    "city",
    "phone",
    "language",
    "email",
    "iban",
    "vip",
    "risk_score",
    "segment_hint",
)
INVOICE_COLUMNS = (
    "invoice_id",
    "customer_id",
    "account_id",
    "subscription_id",
    "issue_date",
    "due_date",
    "amount",
    "currency",
    "description",
)


@dataclass(frozen=True, slots=True)
class SampleFile:
    key: str
    body: bytes
    records: int
    description: str

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Planted:
    """A deliberate mistake: which file, which line, and what is wrong with it."""

    file: str
    line: int | None  # None: the whole file
    problem: str


@dataclass
class Portfolio:
    files: list[SampleFile]  # in upload order: customers first
    planted: list[Planted] = field(default_factory=list)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _Generator:
    def __init__(self, seed: int, business_date: date) -> None:
        self.rng = random.Random(seed)
        self.today = business_date
        self.invoice_seq = 0

    def phone(self) -> str:
        return f"+90{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**7):07d}"

    def iban(self) -> str:
        account = f"{self.rng.randrange(10**16):016d}"
        return str(IBAN.generate("TR", bank_code=self.rng.choice(BANK_CODES), account_code=account))

    def customer(self, number: int) -> dict[str, str]:
        rng = self.rng
        corporate = rng.random() < 0.12
        english = not corporate and rng.random() < 0.15
        if corporate:
            name = f"{rng.choice(TURKISH_LAST)} {rng.choice(COMPANY_SECTORS)} {rng.choice(COMPANY_SUFFIXES)}"
        elif english:
            name = f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"
        else:
            name = f"{rng.choice(TURKISH_FIRST)} {rng.choice(TURKISH_LAST)}"
        email = ""
        if rng.random() < 0.6:
            local = ".".join(name.split()[:2]).translate(_ASCII).lower()
            email = f"{local}{number}@{rng.choice(EMAIL_DOMAINS)}"
        return {
            "customer_id": f"C{number:06d}",
            "name": name,
            "type": "corporate" if corporate else "individual",
            "city": rng.choices([c for c, _ in CITIES], weights=[w for _, w in CITIES])[0],
            "phone": self.phone(),
            "language": "en" if english or (corporate and rng.random() < 0.1) else "tr",
            "email": email,
            "iban": self.iban() if rng.random() < 0.45 else "",
            "vip": "true" if rng.random() < 0.05 else "false",
            "risk_score": "" if rng.random() < 0.08 else str(rng.randint(0, 1000)),
            "segment_hint": rng.choice(SEGMENTS[3:] if corporate else SEGMENTS[:3]),
        }

    def invoice(self, customer: dict[str, str], account_id: str, currency: str) -> dict[str, str]:
        rng = self.rng
        self.invoice_seq += 1
        issue = self.today - timedelta(days=rng.randint(0, 75))
        due = issue + timedelta(days=rng.choice((10, 14, 20, 30)))
        # Log-uniform between the bounds, drawn in whole cents: money never passes through float.
        low, high = (500, 30_000) if currency == "EUR" else (4_990, 450_000)
        amount = int(low * (high / low) ** rng.random())
        period = (issue.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        description = f"Mobil hat faturası {period}" if customer["language"] == "tr" else f"Mobile plan {period}"
        has_subscription = rng.random() < 0.7
        return {
            "invoice_id": f"INV-{issue:%Y%m}-{self.invoice_seq:07d}",
            "customer_id": customer["customer_id"],
            "account_id": account_id,
            "subscription_id": f"SUB-{customer['customer_id'][1:]}-{rng.randint(1, 2)}" if has_subscription else "",
            "issue_date": issue.isoformat(),
            "due_date": due.isoformat(),
            "amount": _money(amount),
            "currency": currency,
            "description": description,
        }


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _plant_invoice_mistakes(
    rng: random.Random, rows: list[dict[str, str]], today: date
) -> list[tuple[dict[str, str], str]]:
    """Wrong rows, each made from a valid one so that only the planted problem is wrong."""

    def variant(**changes: str) -> dict[str, str]:
        base = dict(rng.choice(rows))
        base["invoice_id"] = f"INV-BAD-{len(planted) + 1:03d}"
        base.update(changes)
        return base

    planted: list[tuple[dict[str, str], str]] = []
    planted.append((variant(amount=""), "missing field: amount"))
    planted.append((variant(issue_date="2026-02-30"), "bad date: 2026-02-30"))
    planted.append((variant(due_date="24.11.2026"), "bad date: not ISO 8601"))
    planted.append((variant(amount="0.00"), "amount 0"))
    planted.append((variant(amount="-150.00"), "negative amount"))
    planted.append((variant(amount="12.345"), "amount with 3 decimals"))
    planted.append((variant(currency="TRL"), "unknown currency TRL"))
    later = (today - timedelta(days=3)).isoformat()
    planted.append((variant(issue_date=later, due_date=(today - timedelta(days=10)).isoformat()), "due before issue"))
    planted.append((variant(customer_id="C999999", account_id="A999999"), "unknown customer C999999"))
    # Originals from the first half: mistakes are inserted into the second, so a duplicate follows its
    # original.
    original = rng.choice(rows[: len(rows) // 2])
    planted.append((dict(original), f"identical duplicate of {original['invoice_id']} (skipped, not rejected)"))
    conflicting = dict(rng.choice(rows[: len(rows) // 2]))
    conflicting["amount"] = f"{Decimal(conflicting['amount']) + 10:.2f}"
    planted.append((conflicting, f"conflicting duplicate of {conflicting['invoice_id']} (different amount)"))
    return planted


def generate(customers: int, seed: int, business_date: date) -> Portfolio:
    gen = _Generator(seed, business_date)
    rng = gen.rng
    people = [gen.customer(n) for n in range(1, customers + 1)]
    bad_customers = [
        (
            {**gen.customer(customers + 1), "customer_id": "C900001", "phone": "0532 123 45 67"},
            "phone not E.164",
        ),
        (
            {**gen.customer(customers + 2), "customer_id": "C900002", "iban": "TR0000062"},
            "IBAN too short to be one",
        ),
        ({**gen.customer(customers + 3), "customer_id": "C900003", "language": "de"}, "unsupported language"),
    ]

    try_rows, eur_rows = [], []
    for person in people:
        account = f"A{person['customer_id'][1:]}"
        try_rows.extend(gen.invoice(person, account, "TRY") for _ in range(rng.choice((2, 2, 3, 3, 3))))
        if rng.random() < 0.03:
            eur_rows.extend(gen.invoice(person, f"{account}-EUR", "EUR") for _ in range(2))

    customer_rows = list(people)
    planted: list[Planted] = []
    customers_name = f"customers-{business_date.isoformat()}.csv"
    for row, _problem in bad_customers:
        customer_rows.insert(rng.randrange(len(customer_rows)), row)
    for row, problem in bad_customers:
        planted.append(Planted(customers_name, customer_rows.index(row) + 2, problem))

    invoices_name = f"invoices-{business_date.isoformat()}.csv"
    mistakes = _plant_invoice_mistakes(rng, try_rows, business_date)
    invoice_rows = list(try_rows)
    for row, _problem in mistakes:
        invoice_rows.insert(rng.randrange(len(invoice_rows) // 2, len(invoice_rows)), row)
    positions = {id(row): line for line, row in enumerate(invoice_rows, start=2)}
    planted.extend(Planted(invoices_name, positions[id(row)], problem) for row, problem in mistakes)

    jsonl_name = f"invoices-eur-{business_date.isoformat()}.jsonl"
    jsonl = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in eur_rows).encode("utf-8")
    pdf_name = f"scanned-statement-{business_date.isoformat()}.pdf"
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    planted.append(Planted(pdf_name, None, "not a CSV or JSON Lines file"))

    files = [
        SampleFile(
            f"customers/{customers_name}",
            _csv(CUSTOMER_COLUMNS, customer_rows),
            len(customer_rows),
            f"{len(customer_rows)} customers, {len(bad_customers)} of them invalid",
        ),
        SampleFile(
            f"invoices/{invoices_name}",
            _csv(INVOICE_COLUMNS, invoice_rows),
            len(invoice_rows),
            f"{len(invoice_rows)} TRY invoices, {len(mistakes)} planted mistakes",
        ),
        SampleFile(f"invoices/{jsonl_name}", jsonl, len(eur_rows), f"{len(eur_rows)} EUR invoices as JSON Lines"),
        SampleFile(f"invoices/{pdf_name}", pdf, 0, "a PDF dropped by mistake"),
    ]
    return Portfolio(files=files, planted=sorted(planted, key=lambda p: (p.file, p.line or 0)))
