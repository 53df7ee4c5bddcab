"""Dunning notifications: Jinja templates in Turkish and English rendered to e-mail (HTML + text), SMS and PDF
letters, with money and dates in the customer's locale, and SMS quiet hours.

Pure: no AWS, no environment, no clock — sending (SES, SNS, the print bucket) is the adapters' job.
"""

from receivables.notifications.context import NoticeItem, NotificationContext
from receivables.notifications.errors import NotificationTemplateError, TemplateContextError, UnknownTemplateError
from receivables.notifications.formatting import (
    FALLBACK_LANGUAGE,
    SUPPORTED_LANGUAGES,
    localized_date,
    localized_money,
    resolve_language,
)
from receivables.notifications.quiet_hours import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DEFAULT_QUIET_ZONE,
    is_quiet,
    sms_send_time,
)
from receivables.notifications.render import (
    CATALOGUE,
    TEMPLATE_IDS,
    Channel,
    RenderedEmail,
    RenderedSms,
    render_email,
    render_letter_pdf,
    render_sms,
    template_channels,
)
from receivables.notifications.sms import SmsEncoding, SmsSize, sms_size

__all__ = [
    "CATALOGUE",
    "DEFAULT_QUIET_END",
    "DEFAULT_QUIET_START",
    "DEFAULT_QUIET_ZONE",
    "FALLBACK_LANGUAGE",
    "SUPPORTED_LANGUAGES",
    "TEMPLATE_IDS",
    "Channel",
    "NoticeItem",
    "NotificationContext",
    "NotificationTemplateError",
    "RenderedEmail",
    "RenderedSms",
    "SmsEncoding",
    "SmsSize",
    "TemplateContextError",
    "UnknownTemplateError",
    "is_quiet",
    "localized_date",
    "localized_money",
    "render_email",
    "render_letter_pdf",
    "render_sms",
    "resolve_language",
    "sms_send_time",
    "sms_size",
    "template_channels",
]
