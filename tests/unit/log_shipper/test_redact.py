"""Personal data and credentials are masked and counted; look-alikes are left alone."""

from __future__ import annotations

from collections import Counter

import pytest

from log_shipper.redact import luhn_ok, redact


@pytest.mark.parametrize(
    ("text", "masked", "kind"),
    [
        ("lead jane.doe+x@example.co.uk signed", "lead [REDACTED:email] signed", "email"),
        ("call (212) 555-0187 now", "call [REDACTED:phone] now", "phone"),
        ("call +442079460958", "call [REDACTED:phone]", "phone"),
        ("call +44 20 7946 0958.", "call [REDACTED:phone].", "phone"),
        ("tel: +44 (0)20 7946 0958", "tel: [REDACTED:phone]", "phone"),
        ("ring +33 1 23 45 67 89 today", "ring [REDACTED:phone] today", "phone"),
        ("fax +49-30-1234567", "fax [REDACTED:phone]", "phone"),
        ("mobile +61.412.345.678", "mobile [REDACTED:phone]", "phone"),
        ("call +442079460958-home", "call [REDACTED:phone]-home", "phone"),
        ("user=+33612345678-mobile", "user=[REDACTED:phone]-mobile", "phone"),
        ("ssn 123-45-6789 on file", "ssn [REDACTED:ssn] on file", "ssn"),
        ("card 4111 1111 1111 1111 ok", "card [REDACTED:card] ok", "card"),
        ("card 5500-0000-0000-0004", "card [REDACTED:card]", "card"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws_access_key] used", "aws_access_key"),
        (
            "Authorization: Bearer abc.def-123_456",
            "Authorization: Bearer [REDACTED:bearer]",
            "bearer",
        ),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sflKxwRJSMeKKF2QT4fwpM",
            "token [REDACTED:jwt]",
            "jwt",
        ),
        (
            'aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
            'aws_secret_access_key="[REDACTED:aws_secret_key]"',
            "aws_secret_key",
        ),
    ],
)
def test_each_kind_is_masked_and_counted(text: str, masked: str, kind: str) -> None:
    counts: Counter[str] = Counter()
    assert redact(text, counts) == masked
    assert counts == Counter({kind: 1})


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112 shipped",  # fails the Luhn check
        "took 1234 ms at 2026-11-26T15:00:00Z",
        "request 6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60",
        "version 1.2.3, build 20261126",
        "retried +5 times, latency +12.5 ms, at 15:00:00+0530",
        "offset +1000 and a count of +1234567",  # too few digits for a phone number
        "id +12345678901234567890",  # too many
        "",
    ],
)
def test_look_alikes_stay(text: str) -> None:
    counts: Counter[str] = Counter()
    assert redact(text, counts) == text
    assert not counts


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112")


def test_counts_add_up_over_a_line() -> None:
    counts: Counter[str] = Counter()
    redact("a@b.io, c@d.io and 4111111111111111", counts)
    assert counts == Counter({"email": 2, "card": 1})
