"""The mrkdwn helpers every part's Slack messages are made of: a URL is made safe or shown for
what it is, code cannot end early, lines are cut to fit."""

from __future__ import annotations

import pytest

from opsbundle.mrkdwn import code, fit_lines, link


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://us-east-1.console.aws.amazon.com/x#a|b>c",
         "<https://us-east-1.console.aws.amazon.com/x#a%7Cb%3Ec|go>"),
        ("https://us-east-1.console.aws.amazon.com/x?a=1&b=2",
         "<https://us-east-1.console.aws.amazon.com/x?a=1&amp;b=2|go>"),
        ("https://evil.example/login|Sign", "go: https://evil.example/login|Sign"),
        ("https://console.aws.amazon.com@evil.example/",
         "go: https://console.aws.amazon.com@evil.example/"),
        ("http://us-east-1.console.aws.amazon.com/", "go: http://us-east-1.console.aws.amazon.com/"),
        ("<!channel>", "go: &lt;!channel&gt;"),
        ("https://github.com/acme/web/commit/3f2a", "<https://github.com/acme/web/commit/3f2a|go>"),
        ("", "go"),
    ],
)  # fmt: skip  # one case a line
def test_link_makes_the_url_safe_or_shows_it(url: str, expected: str) -> None:
    assert link(url, "go") == expected


def test_code_escapes_and_cannot_be_ended_by_a_backtick() -> None:
    assert code("opsbundle audit") == "`opsbundle audit`"
    assert code("a`<!channel>") == "`aˋ&lt;!channel&gt;`"


def test_fit_lines_keeps_what_fits_and_counts_the_rest() -> None:
    lines = [f"line {n}" for n in range(100)]
    text = fit_lines("head", lines, limit=60)
    assert len(text) <= 60
    assert text.startswith("head\nline 0\n") and text.endswith(" more")
    kept = text.count("\nline ")
    assert text.endswith(f"…and {100 - kept} more")
    assert fit_lines("head", ["a", "b"], limit=60) == "head\na\nb"  # all fit: nothing cut
