"""The root-activity alert as an email (plain text) and a Slack message (pure)."""

from __future__ import annotations

from monitors.root_login.event import RootActivity
from opsbundle import console
from opsbundle.mrkdwn import code, context, escape, header, link, section
from opsbundle.notify import Alert

METADATA_EVENT_TYPE = "opsbundle_root_activity"


def cloudtrail_link(activity: RootActivity) -> str:
    return console.cloudtrail_event(activity.region, activity.event_id)


def subject(activity: RootActivity) -> str:
    mfa = {"yes": "with MFA", "no": "WITHOUT MFA", "unknown": "MFA unknown"}[activity.mfa]
    outcome = "succeeded" if activity.succeeded else f"FAILED ({activity.outcome})"
    return (
        f"ROOT {activity.what} {outcome}, {mfa}, account {activity.account} "
        f"from {activity.source_ip}"
    )


def email_body(activity: RootActivity) -> str:
    rows = [
        ("What", f"{activity.what} ({activity.event_source or 'signin.amazonaws.com'})"),
        ("Outcome", activity.outcome + (f": {activity.error}" if activity.error else "")),
        ("When (UTC)", activity.time),
        ("Account", activity.account),
        ("Source IP", activity.source_ip),
        ("User agent", activity.user_agent),
        ("MFA used", activity.mfa),
        ("Region", activity.region),
        ("CloudTrail event", activity.event_id),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["The AWS account's root user was used.", ""]
    lines += [f"{label.ljust(width)}  {value}" for label, value in rows]
    lines += [
        "",
        "If nobody expected this: change the root password, check the root MFA device, remove",
        "any root access keys, and review CloudTrail for what else this session did.",
        "",
        f"CloudTrail: {cloudtrail_link(activity)}",
    ]
    return "\n".join(lines) + "\n"


def alert(activity: RootActivity) -> Alert:
    title = subject(activity)
    icon = ":rotating_light:" if activity.succeeded else ":warning:"
    fields = (
        f"*When:* {escape(activity.time)}\n*Source IP:* {code(activity.source_ip)}\n"
        f"*MFA used:* {escape(activity.mfa)}\n*Outcome:* {escape(activity.outcome)}"
        + (f" ({escape(activity.error)})" if activity.error else "")
        + f"\n*User agent:* {escape(activity.user_agent)}"
    )
    return Alert(
        subject=title,
        sns_message=email_body(activity),
        slack_text=f"{icon} {escape(title)}",
        blocks=[
            header(f"Root {activity.what} in {activity.account}"),
            section(fields),
            context(
                link(cloudtrail_link(activity), "CloudTrail event") + " · If nobody expected "
                "this, change the root password and check its MFA and access keys."
            ),
        ],
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"event_id": activity.event_id},
        },
    )
