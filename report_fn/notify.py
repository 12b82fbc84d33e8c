"""The short failure notice ops get (a Slack channel and/or an SNS topic) when a report fails.

Sent through opsbundle.notify, like every other alert: the subject is cleaned for SNS there.
"""

from __future__ import annotations

from opsbundle.exceptions import DeliveryError
from opsbundle.log import get_logger
from opsbundle.notify import Alert, Notifier
from opsbundle.slack import escape


def failure_notice(*, subject: str, reason: str) -> Alert:
    return Alert(
        subject=subject,
        sns_message=f"{subject}\n\n{reason}",
        slack_text=f":rotating_light: *{escape(subject)}*\n{escape(reason)}",
    )


def tell_ops(notifier: Notifier, *, subject: str, reason: str) -> list[str]:
    """Send the notice to every configured place; return where it went. Never raises: the
    report's own failure is what fails the run."""
    try:
        return notifier.send(failure_notice(subject=subject, reason=reason)).sent
    except DeliveryError as error:
        get_logger().error(
            "failure notice reached nobody", extra={"subject": subject, "error": str(error)}
        )
        return []
