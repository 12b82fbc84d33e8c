"""The baseline the audit holds the account to, read once; errors name the variable.

Precedence: explicit argument (CLI flag, or the parameters file with --env) > environment
variable > default. A contact is written "Name | Title | e-mail | phone", the four fields
the Account API requires, e.g. "Ops team | Operations | ops@example.com | +1 555 0100".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from audit.snapshot import MONITORS, Contact
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env

MIN_PASSWORD_LENGTH = 14  # CIS AWS Foundations 1.8
PASSWORD_REUSE_PREVENTION = 24  # CIS AWS Foundations 1.9
DEFAULT_MAX_KEY_AGE_DAYS = 90
DEFAULT_INACTIVE_DAYS = 90
DEFAULT_TRAIL_DELIVERY_HOURS = 24
CONTACT_SETTINGS = {
    "OPERATIONS": names.AUDIT_OPERATIONS_CONTACT,
    "BILLING": names.AUDIT_BILLING_CONTACT,
    "SECURITY": names.AUDIT_SECURITY_CONTACT,
}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@([^@\s]{1,253})$")
_PHONE = re.compile(r"^[\s0-9()+-]{1,25}$")  # the Account API's pattern for PhoneNumber


@dataclass(frozen=True)
class Baseline:
    """What the account must meet; the rules read nothing else."""

    contact_domains: tuple[str, ...]
    contacts: Mapping[str, Contact] = field(default_factory=dict)  # type -> expected contact
    monitors_stack: str | None = None  # None: the bundle's monitors are not checked
    monitors: tuple[str, ...] = MONITORS
    min_password_length: int = MIN_PASSWORD_LENGTH
    password_reuse_prevention: int = PASSWORD_REUSE_PREVENTION
    max_key_age_days: int = DEFAULT_MAX_KEY_AGE_DAYS
    inactive_days: int = DEFAULT_INACTIVE_DAYS
    trail_delivery_hours: int = DEFAULT_TRAIL_DELIVERY_HOURS

    @classmethod
    def load(
        cls,
        env: Env | None = None,
        *,
        explicit: Mapping[str, str] | None = None,
        source: str = "",
    ) -> Baseline:
        """From `explicit` values (keyed by variable name), then the environment.

        `source` names where explicit values came from (a parameters file), for errors.
        """
        env = env or Env()
        given = {k: v for k, v in (explicit or {}).items() if v and v.strip()}

        def value(name: str) -> str | None:
            return given.get(name) or env.string(name)

        def where(name: str) -> str:
            return f"{source} ({name})" if source and name in given else name

        contacts = {
            kind: parse_contact(text, setting=where(setting))
            for kind, setting in CONTACT_SETTINGS.items()
            if (text := value(setting))
        }
        domains = _domains(value(names.AUDIT_CONTACT_DOMAINS), where(names.AUDIT_CONTACT_DOMAINS))
        if not domains:
            domains = tuple(sorted({_domain_of(c.email) for c in contacts.values()}))
        if not domains:
            raise ConfigError(
                names.AUDIT_CONTACT_DOMAINS,
                "is not set: the e-mail domains alternate contacts may use, e.g. example.com "
                f"(or set the contacts themselves, {names.AUDIT_SECURITY_CONTACT} and the others)",
            )
        for kind, contact in contacts.items():
            if not on_domains(contact.email, domains):
                raise ConfigError(
                    where(CONTACT_SETTINGS[kind]),
                    f"its e-mail domain {_domain_of(contact.email)} is not on "
                    f"{names.AUDIT_CONTACT_DOMAINS} ({', '.join(domains)})",
                )
        monitors = _monitors(value(names.AUDIT_MONITORS), where(names.AUDIT_MONITORS))
        stack = value(names.AUDIT_MONITORS_STACK)
        if monitors and not stack:
            raise ConfigError(
                names.AUDIT_MONITORS_STACK,
                "is not set: the monitors stack whose alarms the audit checks, e.g. "
                f"opsbundle-prod-monitors (or {names.AUDIT_MONITORS}=none to skip them)",
            )
        integer = env.integer
        return cls(
            contact_domains=domains,
            contacts=contacts,
            monitors_stack=stack if monitors else None,
            monitors=monitors,
            max_key_age_days=integer(
                names.AUDIT_MAX_KEY_AGE_DAYS,
                None,
                DEFAULT_MAX_KEY_AGE_DAYS,
                minimum=1,
                maximum=DEFAULT_MAX_KEY_AGE_DAYS,
            ),
            inactive_days=integer(
                names.AUDIT_INACTIVE_DAYS,
                None,
                DEFAULT_INACTIVE_DAYS,
                minimum=1,
                maximum=DEFAULT_INACTIVE_DAYS,
            ),
            trail_delivery_hours=integer(
                names.AUDIT_TRAIL_DELIVERY_HOURS,
                None,
                DEFAULT_TRAIL_DELIVERY_HOURS,
                minimum=1,
                maximum=168,
            ),
        )


def parse_contact(text: str, *, setting: str) -> Contact:
    parts = [part.strip() for part in text.split("|")]
    if len(parts) != 4 or not all(parts):
        raise ConfigError(
            setting,
            "must be 'Name | Title | e-mail | phone', e.g. "
            "'Ops team | Operations | ops@example.com | +1 555 0100'",
        )
    name, title, email, phone = parts
    if not _EMAIL.match(email) or not _DOMAIN.match(_domain_of(email)):
        raise ConfigError(setting, "the third field is not an e-mail address")
    if not _PHONE.match(phone):
        raise ConfigError(setting, "the phone number may hold digits, spaces and + - ( ) only")
    if len(name) > 64 or len(title) > 50:
        raise ConfigError(setting, "the name may have 64 characters and the title 50")
    return Contact(name=name, title=title, email=email, phone=phone)


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def on_domains(email: str, domains: tuple[str, ...]) -> bool:
    """The address is on one of `domains` or a subdomain of one (mail.example.com)."""
    domain = _domain_of(email)
    return any(domain == allowed or domain.endswith("." + allowed) for allowed in domains)


def _domains(text: str | None, setting: str) -> tuple[str, ...]:
    if not text:
        return ()
    domains = tuple(d.strip().lower().lstrip("@") for d in text.split(",") if d.strip())
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise ConfigError(setting, f"{domain!r} is not a domain name such as example.com")
    return domains


def _monitors(text: str | None, setting: str) -> tuple[str, ...]:
    if text is None:
        return MONITORS
    if text.strip().lower() == "none":
        return ()
    chosen = tuple(m.strip() for m in text.split(",") if m.strip())
    if unknown := [m for m in chosen if m not in MONITORS]:
        raise ConfigError(
            setting, f"unknown monitor {unknown[0]!r} (known: {', '.join(MONITORS)}, or none)"
        )
    return chosen


@dataclass(frozen=True)
class DigestSettings:
    """Where the weekly audit keeps its state and sends what changed."""

    state_table: str
    ops_topic_arn: str | None = None
    slack_secret_arn: str | None = None
    slack_base_url: str | None = None
    slack_ops_channel: str | None = None

    @classmethod
    def load(cls, env: Env | None = None) -> DigestSettings:
        env = env or Env()
        loaded = cls(
            state_table=env.required(names.AUDIT_STATE_TABLE, why="the findings of the last run"),
            ops_topic_arn=env.string(names.OPS_TOPIC_ARN),
            slack_secret_arn=env.string(names.SLACK_TOKEN_SECRET_ARN),
            slack_base_url=env.string(names.SLACK_BASE_URL),
            slack_ops_channel=env.string(names.SLACK_OPS_CHANNEL),
        )
        if loaded.slack_ops_channel and not loaded.slack_secret_arn:
            env.required(names.SLACK_TOKEN_SECRET_ARN, why="SLACK_OPS_CHANNEL is set")
        if not (loaded.ops_topic_arn or loaded.slack_ops_channel):
            raise ConfigError(
                names.OPS_TOPIC_ARN,
                "is not set, nor SLACK_OPS_CHANNEL: the audit has nowhere to send what changed",
            )
        return loaded
