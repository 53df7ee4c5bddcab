"""Where dunning notices go: e-mail through SES, SMS through SNS, letters into the outbound print bucket."""

from __future__ import annotations

from typing import Any


class AwsMessenger:
    def __init__(self, ses: Any, sns: Any, sender: str) -> None:
        self._ses = ses
        self._sns = sns
        self._sender = sender

    def send_email(self, to: str, subject: str, html: str, text: str) -> str:
        response = self._ses.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
        return str(response["MessageId"])

    def send_sms(self, to: str, text: str) -> str:
        response = self._sns.publish(
            PhoneNumber=to,
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
        return str(response["MessageId"])


class S3LetterBox:
    """Letters as PDF files in the outbound bucket, under ``letters/<date>/``, for the print provider to collect."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def post_letter(self, key: str, pdf: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=pdf, ContentType="application/pdf")
