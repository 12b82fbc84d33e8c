"""Delivers one alert to an SNS topic (email, or Chatbot JSON) and, if configured, to Slack:
the monitors' alerts, the audit's digest and the report's failure notice alike.

An alert is lost only if every destination fails: then `DeliveryError` fails the invocation,
so Lambda retries it and finally records it in the on-failure destination. Every subject is
cleaned for SNS (`sns_subject`), whoever wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opsbundle import aws
from opsbundle import settings as names
from opsbundle.exceptions import DeliveryError, SlackError
from opsbundle.log import get_logger
from opsbundle.secrets import Secrets
from opsbundle.slack import PostedMessage, SlackClient

MAX_SUBJECT = 99  # SNS: "less than 100 characters", ASCII, no line breaks
MAX_SNS_BYTES = 256 * 1024
_NOT_SUBJECT = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True)
class Alert:
    """One alert in every form it is sent in."""

    sns_message: str
    slack_text: str
    subject: str | None = None  # email subject; None for JSON consumers (Chatbot)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    posted: PostedMessage | None = None


def sns_subject(text: str) -> str:
    """A subject SNS accepts: printable ASCII, one line, under 100 characters."""
    cleaned = _NOT_SUBJECT.sub(lambda m: "-" if m.group() in "–—" else "?", " ".join(text.split()))
    cleaned = cleaned.lstrip(" ?") or "opsbundle alert"
    return cleaned if len(cleaned) <= MAX_SUBJECT else cleaned[: MAX_SUBJECT - 3] + "..."


def fit_sns(message: str) -> str:
    data = message.encode("utf-8")
    if len(data) <= MAX_SNS_BYTES:
        return message
    tail = "\n…(cut to fit SNS's 256 KB limit)"
    return data[: MAX_SNS_BYTES - 64].decode("utf-8", "ignore") + tail


def region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


class Notifier:
    """Sends alerts to `topic_arn` and/or a Slack `channel`; never raises unless both fail."""

    def __init__(
        self,
        *,
        topic_arn: str | None = None,
        slack: SlackClient | None = None,
        channel: str | None = None,
        sns_client: Any = None,
    ) -> None:
        self.topic_arn = topic_arn
        self.channel = channel if slack else None
        self._slack = slack if channel else None
        self._sns = sns_client

    @property
    def configured(self) -> bool:
        return bool(self.topic_arn or self._slack)

    def _sns_client(self) -> Any:
        if self._sns is None:  # SNS publishes only to topics in the client's region
            assert self.topic_arn
            self._sns = aws.client("sns", region=region_of(self.topic_arn))
        return self._sns

    def find_thread(self, *, event_type: str, key: str, value: str, oldest: float) -> str | None:
        """The ts of an earlier message of this thread (by its metadata), or None."""
        if not (self._slack and self.channel):
            return None
        try:
            return self._slack.find_message(
                channel=self.channel, event_type=event_type, key=key, value=value, oldest=oldest
            )
        except SlackError as error:
            get_logger().warning("could not look up the Slack thread", extra={"error": str(error)})
            return None

    def send(self, alert: Alert) -> Delivery:
        if not self.configured:
            raise DeliveryError(
                "no destination is configured: set OPS_TOPIC_ARN (or DEVOPS_TOPIC_ARN) "
                "and/or SLACK_OPS_CHANNEL with SLACK_TOKEN_SECRET_ARN"
            )
        delivery = Delivery()
        logger = get_logger()
        if self.topic_arn:
            try:
                args: dict[str, Any] = {
                    "TopicArn": self.topic_arn,
                    "Message": fit_sns(alert.sns_message),
                }
                if alert.subject:
                    args["Subject"] = sns_subject(alert.subject)
                self._sns_client().publish(**args)
                delivery.sent.append(f"sns:{self.topic_arn}")
            except (BotoCoreError, ClientError) as error:
                delivery.problems.append(f"SNS publish to {self.topic_arn} failed: {error}")
        if self._slack and self.channel:
            try:
                delivery.posted = self._slack.post_message(
                    channel=self.channel,
                    text=alert.slack_text,
                    blocks=alert.blocks or None,
                    metadata=alert.metadata,
                    thread_ts=alert.thread_ts,
                )
                delivery.sent.append(f"slack:{self.channel}")
            except SlackError as error:
                delivery.problems.append(str(error))
        for problem in delivery.problems:
            logger.error("alert not delivered to one destination", extra={"error": problem})
        if not delivery.sent:
            raise DeliveryError("; ".join(delivery.problems) or "nothing was sent")
        return delivery


def slack_from_settings(
    *, secret_arn: str | None, base_url: str | None, secrets: Secrets | None = None
) -> SlackClient | None:
    """The Slack client when a token secret is configured (read once per cold start)."""
    if not secret_arn:
        return None
    token = (secrets or Secrets()).token(secret_arn, setting=names.SLACK_TOKEN_SECRET_ARN)
    return SlackClient(token=token, base_url=base_url)
