from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from receivables.notifications import (
    CATALOGUE,
    Channel,
    NoticeItem,
    NotificationContext,
    SmsEncoding,
    TemplateContextError,
    UnknownTemplateError,
    render_email,
    render_letter_pdf,
    render_sms,
    template_channels,
)

NBSP = "\u00a0"
VARIANTS = [(tid, channel) for tid, channels in sorted(CATALOGUE.items()) for channel in sorted(channels)]


def test_the_catalogue_is_the_dunning_contract() -> None:
    assert template_channels("reminder") == {Channel.EMAIL, Channel.SMS}
    assert template_channels("second_reminder") == {Channel.SMS, Channel.EMAIL}
    assert template_channels("formal_notice") == {Channel.LETTER, Channel.EMAIL}


@pytest.mark.parametrize("language", ["tr", "en"])
@pytest.mark.parametrize(("template_id", "channel"), VARIANTS)
def test_every_variant_renders_in_both_languages(
    template_id: str, channel: Channel, language: str, context: NotificationContext
) -> None:
    # Given a complete context, when each variant is rendered, then it names the customer and the amount.
    amount = "₺1.234,56" if language == "tr" else f"TRY{NBSP}1,234.56"
    if channel is Channel.EMAIL:
        email = render_email(template_id, language, context)
        assert email.language == language
        assert email.subject and "\n" not in email.subject
        for part in (email.html, email.text):
            assert "Ayşe Yılmaz" in part
            assert amount in part
            assert "ACC-1001" in part
            assert "INV-2026-0077" in part
        assert f'<html lang="{language}">' in email.html
    elif channel is Channel.SMS:
        sms = render_sms(template_id, language, context)
        assert "Ayşe Yılmaz" in sms.text
        assert amount.replace(NBSP, " ") in sms.text
        assert "\n" not in sms.text
    else:
        assert render_letter_pdf(template_id, language, context).startswith(b"%PDF-")


def test_turkish_reminder_email(context: NotificationContext) -> None:
    email = render_email("reminder", "tr", context)

    assert email.subject == "Ödeme hatırlatması – ACC-1001 numaralı hesabınız"
    assert email.text.startswith("Sayın Ayşe Yılmaz,\n\n")
    assert "24.11.2026 tarihinden bu yana vadesi geçmiş ₺1.234,56 tutarında borcunuz bulunmaktadır." in email.text
    assert "  - INV-2026-0077 | vade 01.12.2026 | ₺234,56\n" in email.text
    assert "  Toplam: ₺1.234,56\n" in email.text
    assert "ödeme referansı olarak ACC-1001 yazınız" in email.text
    assert "TR330006100519786457841326 IBAN numaralı hesabımıza" in email.text
    assert "\n\n\n" not in email.text
    assert email.text.endswith("Saygılarımızla,\nÖrnek Enerji A.Ş.\n0850 123 45 67 · destek@ornek.com.tr\n")
    assert "<strong>₺1.234,56</strong>" in email.html


def test_english_reminder_email(context: NotificationContext) -> None:
    email = render_email("reminder", "en", context)

    assert email.subject == "Payment reminder – account ACC-1001"
    assert email.text.startswith("Dear Ayşe Yılmaz,\n\n")
    assert f"an overdue balance of TRY{NBSP}1,234.56 on your account, outstanding since 24 Nov 2026." in email.text
    assert f"  - INV-2026-0042 | due 24 Nov 2026 | TRY{NBSP}1,000.00\n" in email.text


@pytest.mark.parametrize("language", ["de", "", None, "EN-us"])
def test_unknown_or_missing_language_gets_english(language: str | None, context: NotificationContext) -> None:
    assert render_email("reminder", language, context).language == "en"
    assert render_sms("reminder", language, context).text.startswith("Dear ")


def test_payment_reference_defaults_to_the_account_id_and_can_be_set(context: NotificationContext) -> None:
    assert "Ref: ACC-1001." in render_sms("reminder", "tr", context).text
    custom = dataclasses.replace(context, payment_reference="RF18539007547034")
    assert "Ref: RF18539007547034." in render_sms("reminder", "tr", custom).text


def test_without_an_iban_no_bank_account_is_printed(context: NotificationContext) -> None:
    email = render_email("reminder", "tr", dataclasses.replace(context, company_iban=None, company_contact=None))
    assert "IBAN" not in email.text
    assert "IBAN" not in email.html
    assert email.text.endswith("Saygılarımızla,\nÖrnek Enerji A.Ş.\n")


def test_customer_name_is_escaped_in_html_but_not_in_text(context: NotificationContext) -> None:
    hostile = dataclasses.replace(context, customer_name='<script>alert("x")</script> & Co')

    email = render_email("reminder", "en", hostile)

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in email.html
    assert email.text.startswith('Dear <script>alert("x")</script> & Co,')  # text/plain: nothing to escape


def test_subject_is_one_line_whatever_the_data(context: NotificationContext) -> None:
    injected = dataclasses.replace(context, account_id="ACC-1\r\nBcc: victim@example.com")
    subject = render_email("reminder", "en", injected).subject
    assert subject == "Payment reminder – account ACC-1 Bcc: victim@example.com"


def test_english_days_are_pluralised(context: NotificationContext) -> None:
    def sms(days: int) -> str:
        return render_sms("second_reminder", "en", dataclasses.replace(context, days_overdue=days)).text

    assert "overdue for 1 day." in sms(1)
    assert "overdue for 10 days." in sms(10)


def test_turkish_sms_is_ucs2_and_two_segments(context: NotificationContext) -> None:
    sms = render_sms("reminder", "tr", context)

    assert sms.text == (
        "Sayın Ayşe Yılmaz, vadesi geçmiş ₺1.234,56 borcunuz bulunmaktadır. Ref: ACC-1001. "
        "Ödediyseniz dikkate almayınız. Örnek Enerji A.Ş."
    )
    assert (sms.encoding, sms.segments) == (SmsEncoding.UCS2, 2)
    second = render_sms("second_reminder", "tr", context)
    assert second.text == (
        "Sayın Ayşe Yılmaz, ₺1.234,56 borcunuz 20 gündür ödenmemiştir. Lütfen en kısa sürede ödeyiniz. "
        "Ref: ACC-1001 Örnek Enerji A.Ş."
    )
    assert (second.encoding, second.segments) == (SmsEncoding.UCS2, 2)


def test_english_sms_fits_one_gsm7_message(plain_context: NotificationContext) -> None:
    sms = render_sms("reminder", "en", plain_context)

    assert sms.text == (
        "Dear John Smith, your balance of TRY 1,234.56 is overdue. Payment ref: ACC-2002. "
        "If already paid, please ignore this message. Example Energy"
    )
    assert NBSP not in sms.text  # would force UCS-2
    assert (sms.encoding, sms.segments) == (SmsEncoding.GSM7, 1)
    second = render_sms("second_reminder", "en", plain_context)
    assert (second.encoding, second.segments) == (SmsEncoding.GSM7, 1)


def test_unknown_template_is_a_clear_error(context: NotificationContext) -> None:
    with pytest.raises(
        UnknownTemplateError,
        match=r"unknown template 'final_demand'; known templates: agency_statement, formal_notice, policy_notice",
    ):
        render_email("final_demand", "tr", context)


def test_channel_a_template_lacks_is_a_clear_error(context: NotificationContext) -> None:
    with pytest.raises(UnknownTemplateError, match=r"'formal_notice' has no sms variant; it has: email, letter"):
        render_sms("formal_notice", "tr", context)
    with pytest.raises(LookupError):
        render_letter_pdf("reminder", "tr", context)


def _as_mapping(context: NotificationContext) -> dict[str, Any]:
    return dict(context.template_vars())


def test_a_plain_mapping_works_as_context(context: NotificationContext) -> None:
    variables = _as_mapping(context)
    variables["items"] = [{"item_id": "X-1", "due_date": date(2026, 11, 24), "open_amount": Decimal("1234.56")}]
    assert "X-1 | vade 24.11.2026 | ₺1.234,56" in render_email("reminder", "tr", variables).text


@pytest.mark.parametrize("missing", ["customer_name", "company_name", "overdue_amount", "payment_reference"])
def test_a_missing_variable_raises_instead_of_printing_nothing(missing: str, context: NotificationContext) -> None:
    variables = _as_mapping(context)
    del variables[missing]
    with pytest.raises(TemplateContextError, match=rf"'{missing}' is undefined"):
        render_email("reminder", "tr", variables)


def test_a_missing_optional_key_in_a_mapping_also_raises(context: NotificationContext) -> None:
    # The mapping must be complete; NotificationContext is what fills the optional keys with None.
    variables = _as_mapping(context)
    del variables["company_iban"]
    with pytest.raises(TemplateContextError, match="'company_iban' is undefined"):
        render_email("reminder", "en", variables)


def test_an_item_without_an_amount_raises(context: NotificationContext) -> None:
    variables = _as_mapping(context)
    variables["items"] = [{"item_id": "X-1", "due_date": date(2026, 11, 24)}]
    with pytest.raises(TemplateContextError, match="open_amount"):
        render_email("reminder", "tr", variables)


def test_a_float_amount_is_refused(context: NotificationContext) -> None:
    variables = _as_mapping(context)
    variables["overdue_amount"] = 1234.56
    with pytest.raises(TemplateContextError, match="Decimal"):
        render_sms("reminder", "tr", variables)
    with pytest.raises(TemplateContextError, match="Decimal"):
        dataclasses.replace(context, overdue_amount=1234.56)
    with pytest.raises(TemplateContextError, match="Decimal"):
        NoticeItem("X", date(2026, 1, 1), 5.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "message"), [("currency", "tl", "ISO 4217"), ("days_overdue", -1, "days_overdue")]
)
def test_context_validates_its_fields(field: str, value: object, message: str, context: NotificationContext) -> None:
    with pytest.raises(TemplateContextError, match=message):
        dataclasses.replace(context, **{field: value})
