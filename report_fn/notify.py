"""A short failure notice to ops (a Slack channel and/or an SNS topic) when a report fails."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opsbundle.exceptions import SlackError
from opsbundle.log import get_logger
from opsbundle.slack import SlackClient, escape


class FailureNotifier:
    def __init__(
        self,
        *,
        slack: SlackClient | None = None,
        ops_channel: str | None = None,
        sns_client: Any = None,
        topic_arn: str | None = None,
    ) -> None:
        self._slack = slack if ops_channel else None
        self._channel = ops_channel
        self._sns = sns_client if topic_arn else None
        self._topic = topic_arn

    def notify(self, *, subject: str, reason: str) -> list[str]:
        """Send to every configured place; return where it went. Never raises."""
        sent: list[str] = []
        logger = get_logger()
        if self._slack and self._channel:
            try:
                self._slack.post_message(
                    channel=self._channel,
                    text=f":rotating_light: *{escape(subject)}*\n{escape(reason)}",
                )
                sent.append(f"slack:{self._channel}")
            except SlackError as error:
                logger.error("failure notice not posted to Slack", extra={"error": str(error)})
        if self._sns and self._topic:
            try:
                self._sns.publish(
                    TopicArn=self._topic, Subject=subject[:99], Message=f"{subject}\n\n{reason}"
                )
                sent.append(f"sns:{self._topic}")
            except (BotoCoreError, ClientError) as error:
                logger.error("failure notice not published to SNS", extra={"error": str(error)})
        if not sent:
            logger.error("failure notice reached nobody", extra={"subject": subject})
        return sent
