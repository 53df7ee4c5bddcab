"""Render dunning notifications — e-mail, SMS, letter — from the Jinja templates shipped in this package.

Templates live in ``templates/<language>/<template_id>/`` next to this module and are loaded relative to
``__file__``, so they work from a Lambda layer extracted under ``/opt/python`` exactly as from the source tree.
Variables are strict (a name the context lacks is an error, never an empty string) and HTML is auto-escaped;
text and SMS parts are not (they are not HTML) — they are plain text for SES's text part and SNS.

The catalogue below is the contract with the dunning strategies: a step names a template id and a channel, and
``template_channels`` lets configuration be validated on write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Final

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    Undefined,
    UndefinedError,
    select_autoescape,
)

from receivables.notifications.context import NotificationContext
from receivables.notifications.errors import TemplateContextError, UnknownTemplateError
from receivables.notifications.formatting import localized_date, localized_money, profile, resolve_language
from receivables.notifications.sms import SmsEncoding, sms_size

TEMPLATES_DIR: Final = Path(__file__).resolve().parent / "templates"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"


# template id -> channels it has a variant for. ``reminder`` has an SMS variant because the day-3 step falls back
# to SMS when the customer has no e-mail address; the others have an e-mail variant for customers who asked for it.
CATALOGUE: Final[Mapping[str, frozenset[Channel]]] = {
    "reminder": frozenset({Channel.EMAIL, Channel.SMS}),
    "second_reminder": frozenset({Channel.SMS, Channel.EMAIL}),
    "formal_notice": frozenset({Channel.LETTER, Channel.EMAIL}),
    # The legal notice of an insurance policy's unpaid premium (TTK 1434): its deadline and the policies it names.
    "policy_notice": frozenset({Channel.LETTER, Channel.EMAIL}),
    # An agency's monthly statement: its installments net of commission, and the statement id to quote.
    "agency_statement": frozenset({Channel.LETTER, Channel.EMAIL}),
    # A reinsurer's quarterly account statement (hesap cetveli): premiums, commissions, recoveries and the balance.
    "reinsurance_statement": frozenset({Channel.LETTER}),
}
TEMPLATE_IDS: Final = frozenset(CATALOGUE)

# The files that make up one channel's variant of a template.
CHANNEL_FILES: Final[Mapping[Channel, tuple[str, ...]]] = {
    Channel.EMAIL: ("email_subject.txt", "email.html", "email.txt"),
    Channel.SMS: ("sms.txt",),
    Channel.LETTER: ("letter_subject.txt", "letter_body.txt", "letter_closing.txt"),
}

Context = NotificationContext | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    template_id: str
    language: str
    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class RenderedSms:
    template_id: str
    language: str
    text: str
    encoding: SmsEncoding
    segments: int


def template_channels(template_id: str) -> frozenset[Channel]:
    """The channels ``template_id`` can be sent on; raises UnknownTemplateError for an unknown id."""
    try:
        return CATALOGUE[template_id]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise UnknownTemplateError(f"unknown template {template_id!r}; known templates: {known}") from None


def render_email(template_id: str, language: str | None, context: Context) -> RenderedEmail:
    lang = _resolve(template_id, Channel.EMAIL, language)
    variables = _variables(context)
    # One line, whatever the data holds: a newline in a customer's name must not reach the Subject header.
    subject = " ".join(_render(lang, template_id, "email_subject.txt", variables).split())
    html = _render(lang, template_id, "email.html", variables)
    text = _tidy_text(_render(lang, template_id, "email.txt", variables))
    return RenderedEmail(template_id, lang, subject, html, text)


def render_sms(template_id: str, language: str | None, context: Context) -> RenderedSms:
    lang = _resolve(template_id, Channel.SMS, language)
    text = _sms_text(_render(lang, template_id, "sms.txt", _variables(context)))
    size = sms_size(text)
    return RenderedSms(template_id, lang, text, size.encoding, size.segments)


def render_letter_pdf(
    template_id: str, language: str | None, context: Context, *, created_at: datetime | None = None
) -> bytes:
    """An A4 PDF letter. ``created_at`` (tz-aware) goes into the PDF metadata; by default it is midnight UTC of the
    letter date, so the same input always gives the same bytes."""
    # Imported here: fpdf2 (with fontTools and Pillow) is most of this package's import time, and the e-mail and SMS
    # workers never draw a letter — they should not pay for it at cold start.
    from receivables.notifications.letter import LETTER_LABELS, LetterContent, LetterRow, build_letter_pdf

    lang = _resolve(template_id, Channel.LETTER, language)
    variables = _variables(context)
    letter_date = _required(variables, "letter_date", date, template_id)
    if created_at is None:
        created_at = datetime.combine(letter_date, time(0), tzinfo=UTC)
    elif created_at.tzinfo is None:
        raise TemplateContextError("created_at must be timezone-aware")
    currency = _required(variables, "currency", str, template_id)
    items = _sequence(variables, "items", template_id)
    content = LetterContent(
        language_tag=str(profile(lang).locale).replace("_", "-"),
        labels=LETTER_LABELS[lang],
        company_name=_required(variables, "company_name", str, template_id),
        company_address=tuple(_sequence(variables, "company_address", template_id)),
        company_contact=variables.get("company_contact"),
        customer_name=_required(variables, "customer_name", str, template_id),
        customer_address=tuple(_sequence(variables, "customer_address", template_id)),
        date=localized_date(letter_date, lang),
        account_id=_required(variables, "account_id", str, template_id),
        payment_reference=_required(variables, "payment_reference", str, template_id),
        subject=" ".join(_render(lang, template_id, "letter_subject.txt", variables).split()),
        body=_paragraphs(_render(lang, template_id, "letter_body.txt", variables)),
        rows=tuple(
            LetterRow(
                str(_field(item, "item_id")),
                localized_date(_field(item, "due_date"), lang),
                localized_money(_field(item, "open_amount"), currency, lang),
            )
            for item in items
        ),
        total=localized_money(_required(variables, "overdue_amount", Decimal, template_id), currency, lang),
        closing=_paragraphs(_render(lang, template_id, "letter_closing.txt", variables)),
    )
    return build_letter_pdf(content, created_at=created_at)


def _resolve(template_id: str, channel: Channel, language: str | None) -> str:
    channels = template_channels(template_id)
    if channel not in channels:
        offered = ", ".join(sorted(channels))
        raise UnknownTemplateError(f"template {template_id!r} has no {channel} variant; it has: {offered}")
    return resolve_language(language)


def _variables(context: Context) -> Mapping[str, Any]:
    if isinstance(context, NotificationContext):
        return context.template_vars()
    return context


@cache
def _environment(language: str) -> Environment:
    env = Environment(
        # The language's own folder first; shared/ holds what both languages lay out alike (the e-mail frame).
        loader=FileSystemLoader([TEMPLATES_DIR / language, TEMPLATES_DIR]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates are part of the deployed package; never stat them again on a warm start
    )
    env.filters["money"] = lambda amount, currency: localized_money(_defined(amount), _defined(currency), language)
    env.filters["date"] = lambda day: localized_date(_defined(day), language)
    return env


def _defined(value: Any) -> Any:
    # A filter receives a missing variable as an Undefined object; fail with Jinja's own "'x' is undefined".
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def _render(language: str, template_id: str, part: str, variables: Mapping[str, Any]) -> str:
    name = f"{template_id}/{part}"
    try:
        template = _environment(language).get_template(name)
    except TemplateNotFound as exc:
        raise UnknownTemplateError(f"template file {language}/{name} is missing from the package") from exc
    try:
        return template.render(variables)
    except UndefinedError as exc:
        raise TemplateContextError(f"template {language}/{name}: {exc.message}; the context must provide it") from exc


_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t]*\n+")
_BLANK_LINES: Final = re.compile(r"\n(?:[ \t]*\n){2,}")
_SMS_SPACES: Final = re.compile(r"[\s\u00a0\u202f]+")


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip())


def _tidy_text(text: str) -> str:
    # Macros and conditional blocks leave runs of blank lines; a text e-mail reads better with one between paragraphs.
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def _sms_text(text: str) -> str:
    # One line, and plain spaces: a no-break space (English money) is outside GSM-7 and would double the cost.
    return _SMS_SPACES.sub(" ", text).strip()


def _required[T](variables: Mapping[str, Any], key: str, kind: type[T], template_id: str) -> T:
    if key not in variables or variables[key] is None:
        raise TemplateContextError(f"letter {template_id!r}: the context must provide {key!r}")
    value = variables[key]
    if not isinstance(value, kind):
        raise TemplateContextError(f"letter {template_id!r}: {key!r} must be {kind.__name__}, got {value!r}")
    return value


def _sequence(variables: Mapping[str, Any], key: str, template_id: str) -> tuple[Any, ...]:
    value = _required(variables, key, object, template_id)
    if not isinstance(value, list | tuple):
        raise TemplateContextError(f"letter {template_id!r}: {key!r} must be a list, got {value!r}")
    return tuple(value)


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        if name not in item:
            raise TemplateContextError(f"items[]: each item must provide {name!r}")
        return item[name]
    try:
        return getattr(item, name)
    except AttributeError:
        raise TemplateContextError(f"items[]: each item must provide {name!r}") from None
