"""opsbundle.redaction: what docs/log-shipper.md says is masked is masked, in every context a
log line comes in; look-alikes stay; JSON stays JSON; every pattern runs in linear time."""

from __future__ import annotations

import json
import time
from collections import Counter
from functools import cache

import pytest

from log_shipper.redact import redact as shipper_redact
from opsbundle.redaction import ALL, CREDENTIALS, PERSONAL, find, mask
from tests.unit.redaction_corpus import CONTEXTS, HOSTILE, Figures, measure

RECALL = 0.95  # at least, for every kind in every context
TOUCHED = 0.01  # at most, for every kind of look-alike in every context


@cache
def figures() -> Figures:
    return measure(lambda text: shipper_redact(text, Counter()))


KINDS = sorted({kind for kind, _ in figures().masked})
CATEGORIES = sorted({category for category, _ in figures().touched})


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_masked_in_every_context(kind: str) -> None:
    found = figures()
    for context in CONTEXTS:
        masked, total = found.masked[(kind, context)]
        missed = found.missed.get((kind, context), [])
        assert masked / total >= RECALL, (
            f"{kind} in {context}: {masked}/{total}; kept in: {missed[:3]}"
        )


def test_the_corpus_covers_every_kind_the_shipper_masks() -> None:
    assert set(KINDS) - {"international_phone"} == ALL
    assert all(total >= 25 for _, total in figures().masked.values())


@pytest.mark.parametrize("category", CATEGORIES)
def test_look_alikes_stay_in_every_context(category: str) -> None:
    for context in CONTEXTS:
        touched, total = figures().touched[(category, context)]
        assert touched / total <= TOUCHED, f"{category} in {context}: {touched}/{total} touched"


def test_json_stays_json_so_masked_values_are_masked_in_the_parsed_fields_too() -> None:
    assert figures().invalid_json == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the false positives the issue found
        ("id 00000000-0000-0000-0000-000000000000", None),
        ("order 4829301756 shipped", None),
        ("GET /big bytes=2125550147", None),
        # a bare JSON number becomes a string, at the right level of escaping
        ('{"card": 4111111111111111}', '{"card": "[REDACTED:card]"}'),
        ('{"m":"{\\"card\\":4111111111111111}"}', '{"m":"{\\"card\\":\\"[REDACTED:card]\\"}"}'),
        # escapes: the mask replaces whole escape sequences
        ('{"e":"jane\\u002Bx@example.com"}', '{"e":"[REDACTED:email]"}'),
        ('{"p":"\\u002B44 20 7946 0958"}', '{"p":"[REDACTED:phone]"}'),
        ('{"k":"https:\\/\\/u:pw1234@h.example.com\\/"}',
         '{"k":"https:\\/\\/u:[REDACTED:basic]@h.example.com\\/"}'),
        ('{"m":"{\\\\\\"password\\\\\\":\\\\\\"hunter22\\\\\\"}"}',
         '{"m":"{\\\\\\"password\\\\\\":\\\\\\"[REDACTED:secret]\\\\\\"}"}'),
        ("ssn 123%2D45%2D6789", "ssn [REDACTED:ssn]"),
        # a private key with no END in the text is masked to the end
        ("key -----BEGIN RSA PRIVATE KEY-----\\nMIIEow", "key [REDACTED:private_key]"),
        # a value that is no secret
        ('{"password": null, "token": "${TOKEN}", "bypass": 1, "next_token": "abc123"}', None),
    ],
)  # fmt: skip
def test_escapes_json_and_look_alikes(text: str, expected: str | None) -> None:
    assert mask(text) == (text if expected is None else expected)


def test_counts_by_kind_and_the_monitor_s_labels() -> None:
    counts: Counter[str] = Counter()
    text = "a@b.io c@d.io 4111111111111111 xoxb-1234567890-abcdefghij"
    assert mask(text, counts, kinds=CREDENTIALS, label=lambda kind: "[REDACTED]") == (
        "a@b.io c@d.io 4111111111111111 [REDACTED]"
    )
    assert counts == Counter({"slack_token": 1})
    counts.clear()
    mask(text, counts, kinds=PERSONAL)
    assert counts == Counter({"email": 2, "card": 1})


def test_spans_never_overlap_and_the_first_kind_wins() -> None:
    text = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl x"
    assert [kind for _, _, kind in find(text)] == ["jwt"]


# --- linear time: the pipeline Lambda redacts 30 lines in 120 s; one hostile line must not
# --- eat that. Each input grows 4x; the time may grow at most ~4x (8x allowed for noise).


def _cpu(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        mask(text, Counter())
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_inputs_take_linear_time(name: str) -> None:
    unit = HOSTILE[name]
    small = unit * (5_000 // len(unit))
    large = unit * (20_000 // len(unit))
    t_small, t_large = _cpu(small), _cpu(large)
    assert t_large < 0.25, f"{name}: {t_large:.3f} s for 20,000 characters"
    assert t_large < max(8 * t_small, 0.02), f"{name}: {t_small:.4f} s -> {t_large:.4f} s"


def test_the_issue_s_slow_input_is_fast_for_the_pipeline_monitor_too() -> None:
    from monitors.redact import redact

    started = time.process_time()
    redact("token" * 1000)  # 5,000 characters: 157 s before
    redact("a" * 20_000)  # 21 s before
    assert time.process_time() - started < 0.1


def test_every_rule_s_kinds_are_known() -> None:
    from opsbundle.redaction import PRIORITY, rules

    assert {kind for rule in rules() for kind in rule.kinds} | {"private_key"} == ALL
    assert set(PRIORITY) == ALL
    assert json.dumps(sorted(ALL))  # kinds are plain names: they go into redaction.kinds


def test_the_quick_decoding_is_the_full_one() -> None:
    """find() decodes most escaped lines the quick way and maps matches back through the full
    levels: the two must agree on every text, or a mask would land in the wrong place."""
    import random

    from opsbundle.redaction import _decoded, _levels

    for text in ("a\\u005Cnb", "\\u00252B44", '\\u005C\\"x'):  # escapes that make escapes
        assert _decoded(text) == _levels(text)[-1].text, repr(text)
    rng = random.Random(11)
    pieces = ["\\", '"', "n", "u", "00", "5C", "25", "41", "%", "2B", "/", "a", "@", "t", "b"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        levels = _levels(text)
        assert _decoded(text) == (levels[-1].text if levels else text), repr(text)
