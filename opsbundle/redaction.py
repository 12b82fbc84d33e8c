"""Finds personal data and credentials in text and masks them: one rule set for every part.

The log shipper masks every kind (`PERSONAL | CREDENTIALS`) as `[REDACTED:<kind>]` (`redact`);
the pipeline-failure monitor masks credentials in build logs, stack events and commit messages,
and the report masks them in a CRM's error answers, as `[REDACTED]` (`redact_credentials`,
`redact_credential_lines`). What is found, by kind:

    email           local@domain.tld
    phone           North American numbers written with separators ((212) 555-0187,
                    212-555-0187, 212.555.0187, +1 212 555 0187); international numbers
                    written with a "+" (+44 20 7946 0958, +44 (0)20 7946 0958, +442079460958);
                    ten digits with nothing between them only after a phone-like name
                    (phone=2125550187, "mobile": 2125550187)
    ssn             US SSNs with dashes, blanks or en dashes (123-45-6789, 123 45 6789,
                    123–45–6789); nine digits in a row only after an SSN-like name
    card            13-19 digits, alone or in groups of four split by one blank, dash or dot
                    (Amex 4-6-5), with a card network's prefix and length, passing the Luhn check
    aws_access_key  AKIA…/ASIA…/AIDA…/AROA… key and principal ids
    aws_secret_key  40 characters after a secret-access-key name (aws_secret_access_key=,
                    "SecretAccessKey": , secretAccessKey: , --secret-access-key) or right after
                    an access key id
    jwt             eyJ….….… (signed or not)
    bearer          "Bearer <token>", and the values of access_token, refresh_token, id_token
    basic           "Basic <base64 of user:password>", the password in scheme://user:password@,
                    curl -u/--user user:password
    secret          the value after a name ending in password, passwd, pwd, secret, token,
                    api key, access key, private key or credentials (name=value, name: value,
                    "name": "value"), --password/--token/--secret flags, mysql -p<password>
    private_key     -----BEGIN … PRIVATE KEY----- to its END line (or to the end of the text)
    slack_token     xoxb-/xoxp-/xoxa-/xoxr-/xoxs-/xoxe-, xapp-, hooks.slack.com webhook paths
    github_token    ghp_/gho_/ghu_/ghs_/ghr_ tokens, github_pat_
    token           GitLab (glpat-), npm (npm_), Stripe (sk_live_/rk_live_/sk_test_) and Google
                    (AIza…) API keys

Escapes do not hide a value: the rules run on the text with JSON escapes (\\", \\/, \\uXXXX, as
.NET and PHP write them, up to three levels of JSON inside strings) and %XX decoded, and each
match is mapped back to the characters of the original text that spell it. The mask replaces
whole escape sequences, so a JSON text stays valid JSON (a card or phone written as a bare JSON
number becomes a string). Every pattern runs in time linear in the text: quantifiers are
bounded or anchored so that no position is scanned more than a constant number of times.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

PERSONAL = frozenset({"email", "phone", "ssn", "card"})
CREDENTIALS = frozenset({
    "aws_access_key", "aws_secret_key", "jwt", "bearer", "basic", "secret", "private_key",
    "slack_token", "github_token", "token",
})  # fmt: skip  # names packed, not one a line
ALL = PERSONAL | CREDENTIALS
MAX_LEVELS = 3  # JSON in a string in a string in a line: as deep as logs go in practice


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for char in reversed(digits):
        value = ord(char) - 48
        if double:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
        double = not double
    return total % 10 == 0


# --- validators: a match that fails one is left alone ----------------------------------------

# (first digits, lengths) of the card networks: Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro. A run of digits with none of these prefixes is an id, not a card.
_CARD_PREFIXES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),
    (51, 55, frozenset({16})),
    (2221, 2720, frozenset({16})),
    (34, 34, frozenset({15})),
    (37, 37, frozenset({15})),
    (6011, 6011, frozenset({16, 17, 18, 19})),
    (644, 649, frozenset({16, 17, 18, 19})),
    (65, 65, frozenset({16, 17, 18, 19})),
    (3528, 3589, frozenset({16, 17, 18, 19})),
    (300, 305, frozenset({14, 15, 16, 17, 18, 19})),
    (36, 36, frozenset({14, 15, 16, 17, 18, 19})),
    (38, 39, frozenset({16, 17, 18, 19})),
    (62, 62, frozenset({16, 17, 18, 19})),
    (50, 50, frozenset({16, 17, 18, 19})),
    (56, 58, frozenset({16, 17, 18, 19})),
    (67, 67, frozenset({16, 17, 18, 19})),
)


def card_ok(digits: str) -> bool:
    """A card number: a network's prefix and length, and the Luhn check."""
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    for low, high, lengths in _CARD_PREFIXES:
        if low <= int(digits[: len(str(low))]) <= high and len(digits) in lengths:
            return luhn_ok(digits)
    return False


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(value: str, match: re.Match[str]) -> bool:
    return card_ok(_digits(value))


def _ssn(value: str, match: re.Match[str]) -> bool:
    digits = _digits(value)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        len(digits) == 9
        and area not in ("000", "666")
        and area[0] != "9"
        and group != "00"
        and serial != "0000"
    )


def _nanp(value: str, match: re.Match[str]) -> bool:
    """North American: area code and exchange each start with 2-9 (after an optional 1)."""
    digits = _digits(value)
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[0] not in "01" and digits[3] not in "01"


def _international(value: str, match: re.Match[str]) -> bool:
    return 8 <= len(_digits(value)) <= 15 and value.count("(") == value.count(")")


def _basic(value: str, match: re.Match[str]) -> bool:
    """The Basic credential decodes to user:password (so "Basic authentication" stays)."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and decoded.isascii()


# A value that is no secret: empty, a placeholder, already masked, a variable to be expanded.
_NOT_A_SECRET = re.compile(
    r"(?i)(?:null|none|nil|true|false|undefined|\**|x+|-+|\.+|<[^>]*>|\[[^\]]*\]|\$\{?[\w.]*\}?"
    r"|%\(?\w*\)?s|\{\w*\}|redacted|masked|hidden|changeme)"
)
# Names that end like a secret's but hold none (paging cursors).
_NOT_SECRET_NAMES = re.compile(
    r"(?i)(?:next|continuation|page|pagination|sync|sequence)[_.-]?token$"
)
_OAUTH_NAMES = re.compile(r"(?i)(?:access|refresh|id)[_.-]?token$")


def _secret(value: str, match: re.Match[str]) -> bool:
    quoted = value[:1] in ("'", '"')
    value = value.strip("\"'")
    name = match.groupdict().get("name") or ""
    if name.lower() == "token" and not quoted and value.isalpha():
        return False  # prose: "unexpected token: FROM"
    return (
        bool(value)
        and not _NOT_A_SECRET.fullmatch(value)
        and not (name and _NOT_SECRET_NAMES.search(name))
    )


def _secret_kind(match: re.Match[str]) -> str:
    name = match.groupdict().get("name") or ""
    return "bearer" if _OAUTH_NAMES.search(name) else "secret"


def _group_kind(match: re.Match[str]) -> str:
    return str(match.lastgroup)


_NUMBER_CHECKS = {"ssn": _ssn, "card": _card, "phone": _nanp}


def _number(value: str, match: re.Match[str]) -> bool:
    return _NUMBER_CHECKS[str(match.lastgroup)](value, match)


# --- the rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A pattern and the kind of what it finds, or a function naming the kind per match (a
    pattern can have one named group per kind); an optional check the masked value must
    pass. The `value` group is masked, else the kind's group, else the whole match.

    Speed: most lines hold nothing to mask, so a rule runs only when the quick checks of
    its `family` pass on the text (_families), and then only on a text holding one of
    `needs` (looked for in lower case when `folded`)."""

    family: str
    kinds: frozenset[str]
    pattern: re.Pattern[str]
    kind_of: Callable[[re.Match[str]], str]
    check: Callable[[str, re.Match[str]], bool] | None = None
    needs: tuple[str, ...] = ()
    folded: bool = False

    @property
    def has_value(self) -> bool:
        return "value" in self.pattern.groupindex


def _rule(
    family: str,
    kind: str,
    pattern: str,
    *,
    check: Callable[[str, re.Match[str]], bool] | None = None,
    kind_of: Callable[[re.Match[str]], str] | None = None,
    kinds: Iterable[str] = (),
    needs: tuple[str, ...] = (),
    folded: bool = False,
) -> Rule:
    return Rule(
        family=family,
        kinds=frozenset(kinds or (kind,)),
        pattern=re.compile(pattern),
        kind_of=kind_of or (lambda match: kind),
        check=check,
        needs=needs,
        folded=folded,
    )


_B64 = r"A-Za-z0-9+/"
_SEP = r"[\"']?\s{0,3}[:=]\s{0,3}"  # between a name and its value: = : ": "
# A value: quoted, or up to the next blank, quote or separator. Bounded: linear time.
_VALUE = r"(?P<value>\"[^\"\n]{1,512}\"|'[^'\n]{1,512}'|[^\s\"',;&<>(){}\[\]]{1,512})"
_KEY_IDS = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "APKA", "ABIA", "ACCA")
# (a bare "pass" or "pwd" only as a whole word or after _ . -: "bypass" is no secret's name)
_NAME_ENDINGS = (
    r"(?:(?<![a-z])pass|(?<![a-z])pwd|password|passwd|passphrase|secret|token|api[_.-]?key"
    r"|apikey|access[_.-]?key|private[_.-]?key|credentials?|auth[_.-]?key)"
)


# Most patterns start with a literal or a character class and look behind it afterwards
# (not before it): the regex engine then skips ahead to where the literal is.
@cache
def rules() -> tuple[Rule, ...]:
    """The rules, compiled on first use (the shipper's cold start pays for them only when a
    route redacts)."""
    return (
        # Vendor tokens, by their prefixes.
        _rule("vendor", "", (
            r"(?P<jwt>eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)"
            r"|(?P<slack_token>xox[abposre]-(?<![A-Za-z0-9_-]xox.-)[A-Za-z0-9-]{10,}"
            r"|xapp-(?<![A-Za-z0-9_-]xapp-)\d-[A-Za-z0-9-]{10,}"
            r"|(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9/_-]{16,})"
            r"|(?P<github_token>gh[pousr]_(?<![A-Za-z0-9_]gh._)[A-Za-z0-9]{36,255}"
            r"|github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,255})"
            r"|(?P<token>glpat-(?<![A-Za-z0-9_-]glpat-)[A-Za-z0-9_-]{20,}"
            r"|npm_(?<![A-Za-z0-9_-]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9])"
            r"|[sr]k_(?:live|test)_(?<![A-Za-z0-9_-].k_live_)(?<![A-Za-z0-9_-].k_test_)[A-Za-z0-9]{16,}"
            r"|AIza(?<![A-Za-z0-9_-]AIza)[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-]))"
            rf"|(?P<aws_access_key>(?:{'|'.join(_KEY_IDS)})(?<![A-Z0-9]....)[A-Z0-9]{{16}}"
            r"(?![A-Z0-9]))"
        ), kinds=("jwt", "slack_token", "github_token", "token", "aws_access_key"),
            kind_of=_group_kind,
        ),
        # An AWS secret key right after its access key id: 'AKIA…', 'wJal…' (JS), AKIA…:wJal…
        _rule("vendor", "aws_secret_key", (
            r"(?:AKIA|ASIA)(?<![A-Z0-9]....)[A-Z0-9]{16}[\"']?\s{0,3}[,:;]?\s{0,3}[\"']?"
            rf"(?P<value>[{_B64}]{{40}})(?![{_B64}=])"
        ), needs=("AKIA", "ASIA")),
        # … and after its name: aws_secret_access_key=, "SecretAccessKey": , --secret-access-key
        _rule("named", "aws_secret_key", (
            r"(?i)secret[_.-]?(?:access)?[_.-]?key[\"']?"
            rf"(?:\s{{0,3}}[:=]|\s)\s{{0,3}}[\"']?(?P<value>[{_B64}]{{40}})(?![{_B64}=])"
        ), needs=("secret",), folded=True),
        _rule("named", "bearer", (
            r"(?i)bearer(?<![a-z0-9]bearer)\s{1,3}(?P<value>[A-Za-z0-9._~+/-]{8,}=*)"
        ), needs=("bearer",), folded=True),
        _rule("named", "basic", (
            rf"(?i)basic(?<![a-z0-9]basic)\s{{1,3}}(?P<value>[{_B64}]{{8,}}={{0,2}})(?![{_B64}=])"
        ), check=_basic, needs=("basic",), folded=True),
        # scheme://user:password@host
        _rule("at", "basic", (
            r"://(?<=[A-Za-z0-9+.-]://)[^/\s:@\"']{1,128}:(?P<value>[^/\s@\"']{1,256})@"
        ), needs=("://",)),
        # curl -u user:password, --user user:password
        _rule("dash", "basic", (
            r"-(?<![\w-]-)(?:u|-user)[ =]?[\"']?[^\s:\"'-][^\s:\"']{0,127}:"
            r"(?P<value>[^\s\"']{1,256})"
        ), needs=("-u",)),
        # name=value, "name": "value" for names that end like a secret's
        _rule("named", "secret", (
            r"(?i)(?<![a-z0-9.-])(?P<name>[a-z0-9_.-]{0,40}?"
            + _NAME_ENDINGS + r"s?)" + _SEP + _VALUE
        ), check=_secret, kind_of=_secret_kind, kinds=("secret", "bearer"),
            needs=("pass", "pwd", "secret", "token", "key", "credential"), folded=True),
        # --password x, --token=x
        _rule("named", "secret", (
            r"(?i)-(?<![\w-]-)-?(?:password|passwd|pass|token|secret|api-key|auth-token)"
            r"(?:=|\s{1,3})(?P<value>[^\s\"']{1,256}|\"[^\"\n]{1,256}\"|'[^'\n]{1,256}')"
        ), check=_secret, needs=("-pass", "-token", "-secret", "-api-key", "-auth-token"),
            folded=True),
        # mysql -uroot -pPASSWORD
        _rule("dash", "secret", (
            r"(?:mysql|mariadb)(?<![\w-]mysql)(?<![\w-]mariadb)(?:dump|admin|-dump)?"
            r"\b[^|;&\n]{0,160}?\s-p(?P<value>[^\s\"'-][^\s\"']{0,255})"
        ), check=_secret, needs=("mysql", "mariadb"), folded=True),
        _rule("at", "email", (
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
            r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
        )),
        # nine digits after an SSN's name, ten after a phone's
        _rule("named numbers", "ssn", (
            r"(?i)(?<![a-z0-9])(?:ssn|social[_ .-]?security(?:[_ .-]?(?:number|no|num))?)[\"']?"
            r"[\s:=#\"'-]{0,4}(?P<value>\d{9})(?!\d)"
        ), check=_ssn, needs=("ssn", "social"), folded=True),
        _rule("named numbers", "phone", (
            r"(?i)(?<![a-z0-9.-])[a-z0-9_.-]{0,24}?(?:phone|tel|mobile|cell|fax|sms|msisdn)"
            r"[a-z0-9_.-]{0,20}"
            r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?(?P<value>1?\d{10})(?!\d)"
        ), check=_nanp, needs=("phone", "tel", "mobile", "cell", "fax", "sms", "msisdn"),
            folded=True),
        # SSN 123-45-6789, card 4111 1111 1111 1111, phone (212) 555-0187: one pass for the three
        _rule("numbers", "", (
            r"(?=[\d(])(?:(?P<ssn>\d{3}(?<![\w.,+(-]...)([- \u2013])\d{2}\2\d{4})(?![\w-]|\.\d)"
            r"|(?P<card>\d{4}(?<![\w.,+(-]....)"
            r"(?:([ .-]?)\d{4}\4\d{4}\4\d{1,7}|([ .-]?)\d{6}\5\d{4,5}))"
            r"(?!\.?\d|[\w-])"
            r"|(?P<phone>(?:1(?<![\w.,+(-]1)[ .-]?(?:\(\d{3}\)\s?|\d{3}[ .-])"
            r"|\((?<![\w.,+(-]\()\d{3}\)\s?|\d{3}(?<![\w.,+(-]...)[ .-])\d{3}[ .-]\d{4})"
            r"(?![\w-]|\.\d))"
        ), check=_number, kind_of=_group_kind, kinds=("ssn", "card", "phone")),
        # +44 20 7946 0958, +44 (0)20 7946 0958, +442079460958
        _rule("plus", "phone", r"(?P<value>\+(?<![\w+]\+)[1-9](?:[ .()-]{0,2}\d){7,14})(?!\d)",
              check=_international),
    )  # fmt: skip  # laid out as a table


# When two matches overlap, the first kind here wins (a password that is an email address
# is a secret; the JWT after "Bearer" is counted as a JWT).
PRIORITY = (
    "private_key", "jwt", "slack_token", "github_token", "token", "aws_access_key",
    "aws_secret_key", "bearer", "basic", "secret", "email", "ssn", "card", "phone",
)  # fmt: skip  # names packed, not one a line
_KIND_ORDER = {kind: index for index, kind in enumerate(PRIORITY)}
_PRIVATE_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----")
_PRIVATE_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----")


# --- escapes -------------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|[\"\\/bfnrt])|%[2-7][0-9A-Fa-f]")
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _Level:
    """One level of escapes undone: the decoded text, and where each escape was in the text
    it was decoded from (so a span of the decoded text maps back to whole escapes)."""

    __slots__ = ("decoded_at", "escapes", "text")

    def __init__(self, source: str) -> None:
        pieces: list[str] = []
        self.decoded_at: list[int] = []  # position of each escape's character, decoded
        self.escapes: list[tuple[int, int]] = []  # (start, length) in the source
        last = shift = 0
        for match in _ESCAPE.finditer(source):
            start, end = match.span()
            token = match.group()
            if token[0] == "%":
                char = chr(int(token[1:], 16))
            elif token[1] == "u":
                char = chr(int(token[2:], 16))
            else:
                char = _SIMPLE[token[1]]
            pieces.append(source[last:start])
            pieces.append(char)
            self.decoded_at.append(start - shift)
            self.escapes.append((start, end - start))
            shift += end - start - 1
            last = end
        pieces.append(source[last:])
        self.text = "".join(pieces)

    def _locate(self, position: int) -> tuple[int, int]:
        """(start, length) in the source of the decoded character at `position`."""
        index = bisect_right(self.decoded_at, position) - 1
        if index < 0:
            return position, 1
        at, (start, length) = self.decoded_at[index], self.escapes[index]
        if position == at:
            return start, length
        return start + length + (position - at - 1), 1

    def start(self, position: int) -> int:
        """Where the decoded character at `position` starts in the source."""
        return self._locate(position)[0]

    def end(self, position: int) -> int:
        """Where the decoded text up to `position` (exclusive, > 0) ends in the source."""
        start, length = self._locate(position - 1)
        return start + length


def _levels(text: str) -> list[_Level]:
    levels: list[_Level] = []
    source = text
    while len(levels) < MAX_LEVELS and ("\\" in source or "%" in source):
        level = _Level(source)
        if not level.escapes:
            break
        levels.append(level)
        source = level.text
    return levels


_FIXED_ESCAPES = (("\\n", "\n"), ('\\"', '"'), ("\\t", "\t"), ("\\/", "/"), ("\\r", "\r"),
                  ("\\b", "\b"), ("\\f", "\f"))  # fmt: skip  # laid out as a table
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")


def _decoded(text: str) -> str:
    """The text _levels ends with, made the quick way when it can be: a text with escapes
    but no escaped backslash and no %XX has exactly one level, with nothing ambiguous in it."""
    if "\\" not in text and "%" not in text:
        return text
    if "\\\\" in text or "%" in text:
        levels = _levels(text)
        return levels[-1].text if levels else text
    decoded = text
    for escape, char in _FIXED_ESCAPES:
        if escape in decoded:
            decoded = decoded.replace(escape, char)
    if "\\u" in decoded:
        decoded = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), decoded)
        if "\\" in decoded or "%" in decoded:  # \u005C or \u0025: a second level follows
            levels = _levels(text)
            return levels[-1].text if levels else text
    return decoded


# The text with each digit made "0", each ASCII letter "a", anything else but ( and ) "-",
# and non-ASCII bytes (an en dash) left out: bytes.translate is fast, and a number kind needs
# one of these shapes (nine digits after no letter, an SSN, a phone, card groups).
_SHAPES = bytes(
    ord("0")
    if 48 <= byte <= 57
    else ord("a")
    if 65 <= byte <= 90 or 97 <= byte <= 122
    else byte
    if byte in b"()"
    else ord("-")
    for byte in range(256)
)
_NON_ASCII = bytes(range(128, 256))


def _could_hold_numbers(view: str) -> bool:
    shapes = view.encode("utf-8", "surrogatepass").translate(_SHAPES, _NON_ASCII)
    return (
        b"-000000000" in shapes
        or b"000-00-0000" in shapes
        or b"000-000-0000" in shapes
        or b"(000)" in shapes
        or b"0000-0000-0000-0" in shapes
        or b"0000-000000-0000" in shapes
        or shapes[:9] == b"000000000"
    )


_PLUS_PHONE = re.compile(r"\+[1-9]")
_GITHUB = re.compile(r"gh[pousr]_|github_pat_")


def _families(view: str, kinds: frozenset[str]) -> set[str]:
    """The families of rules that could find something in `view`: a few substring searches
    (fast in CPython) decide, so a line with nothing to mask costs little."""
    found = set()
    if "@" in view:
        found.add("at")
    if "-u" in view or "-p" in view:
        found.add("dash")
    if (
        "eyJ" in view
        or "xox" in view
        or "xapp-" in view
        or "hooks.slack" in view
        or "glpat-" in view
        or "npm_" in view
        or "k_live_" in view
        or "k_test_" in view
        or _AWS_KEY_ID.search(view)
        or _GITHUB.search(view)
    ):
        found.add("vendor")
    folded = view.lower()
    if (
        "pass" in folded
        or "pwd" in folded
        or "secret" in folded
        or "token" in folded
        or "key" in folded
        or "credential" in folded
        or "bearer" in folded
        or "basic" in folded
    ):
        found.add("named")
    if kinds & PERSONAL:
        if _could_hold_numbers(view):
            found.add("numbers")
            found.add("named numbers")
        if "+" in view and _PLUS_PHONE.search(view):
            found.add("plus")
    return found


_AWS_KEY_ID = re.compile("A(?:" + "|".join(key_id[1:] for key_id in _KEY_IDS) + ")|AIza")

# --- finding and masking -------------------------------------------------------------------

Span = tuple[int, int, int, str]  # start, end, priority, kind


def find(text: str, kinds: frozenset[str] = ALL) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each value to mask in `text`, in order, never overlapping."""
    view = _decoded(text)
    spans: list[Span] = []
    if "private_key" in kinds and "PRIVATE KEY" in view:
        spans += _private_keys(view)
    families = _families(view, kinds)
    if not families and not spans:
        return []
    folded = view.lower()
    for rule in rules():
        if rule.family in families and rule.kinds & kinds and _wanted(rule, view, folded):
            spans += _matches(rule, view, kinds)
    if not spans:
        return []
    spans.sort()
    kept: list[tuple[int, int, str]] = []
    for start, end, _, kind in spans:
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, kind))
    return _to_source(kept, _levels(text)) if view is not text else kept


def _wanted(rule: Rule, view: str, folded: str) -> bool:
    if not rule.needs:
        return True
    return any(need in (folded if rule.folded else view) for need in rule.needs)


def _matches(rule: Rule, view: str, kinds: frozenset[str]) -> list[Span]:
    spans = []
    value_group = rule.has_value
    for match in rule.pattern.finditer(view):
        kind = rule.kind_of(match)
        if kind not in kinds:
            continue
        group = "value" if value_group else (match.lastgroup or 0)
        value = match.group(group)
        if rule.check is not None and not rule.check(value, match):
            continue
        start, end = match.span(group)
        if value_group and value[:1] in ("'", '"'):
            start, end = start + 1, end - 1  # the quotes stay
        spans.append((start, end, _KIND_ORDER[kind], kind))
    return spans


def _to_source(
    spans: list[tuple[int, int, str]], levels: list[_Level]
) -> list[tuple[int, int, str]]:
    for level in reversed(levels):
        spans = [(level.start(start), level.end(end), kind) for start, end, kind in spans]
    return spans


def _private_keys(text: str) -> list[Span]:
    """Each BEGIN … PRIVATE KEY block to its END line, or to the end of the text."""
    spans: list[Span] = []
    position = 0
    priority = _KIND_ORDER["private_key"]
    while begin := _PRIVATE_BEGIN.search(text, position):
        end = _PRIVATE_END.search(text, begin.end())
        stop = end.end() if end else len(text)
        spans.append((begin.start(), stop, priority, "private_key"))
        position = stop
    return spans


def mask(
    text: str,
    counts: Counter[str] | None = None,
    *,
    kinds: frozenset[str] = ALL,
    label: Callable[[str], str] = lambda kind: f"[REDACTED:{kind}]",
) -> str:
    """`text` with every value of `kinds` replaced by its label; `counts` gains one per value."""
    spans = find(text, kinds)
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end, kind in spans:
        out.append(text[last:start])
        quote = _json_number_quote(text, start, end)
        out.append(f"{quote}{label(kind)}{quote}")
        last = end
        if counts is not None:
            counts[kind] += 1
    out.append(text[last:])
    return "".join(out)


_NUMBER = re.compile(r"[+-]?\d[\d.]*")


def _json_number_quote(text: str, start: int, end: int) -> str:
    """The quote a bare JSON number needs once it is a masked string: `"`, or `\\"` inside a
    JSON text in a string, and so on ("" when it is in a string already, or not in JSON)."""
    if not _NUMBER.fullmatch(text, start, end):
        return ""
    before = text[max(0, start - 16) : start].rstrip()
    after = text[end : end + 16].lstrip()
    if not before.endswith(":") or (after and after[0] not in ",}]"):
        return ""
    key_end = before[:-1].rstrip()
    if not key_end.endswith('"'):
        return ""
    backslashes = len(key_end[:-1]) - len(key_end[:-1].rstrip("\\"))
    return "\\" * backslashes + '"'


# --- what the parts call ------------------------------------------------------------------

MASK = "[REDACTED]"
# A private key's marker lines, also when the line was cut after the words.
_KEY_BEGIN_LINE = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY")
_KEY_END_LINE = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY")
# A line of a PEM body: base64 and nothing else (64 characters but the last).
_KEY_BODY_LINE = re.compile(r"\s*[A-Za-z0-9+/]{16,76}={0,2}\s*")


def redact(text: str, counts: Counter[str] | None = None) -> str:
    """Personal data and credentials masked as "[REDACTED:<kind>]" (the log shipper's routes
    that redact); `counts` gains one per masked value, so the document says what was masked,
    never what it was."""
    return mask(text, counts, kinds=ALL)


def redact_credentials(text: str) -> str:
    """Credentials masked as "[REDACTED]": an error message, a stack event, a commit message,
    a CRM's answer. Personal data is left alone (it is what those texts are about)."""
    return mask(text, kinds=CREDENTIALS, label=lambda kind: MASK)


def redact_credential_lines(lines: list[str]) -> list[str]:
    """Each line with its credentials masked (build logs). A private key block is masked from
    its BEGIN line to its END line, and lines that start the list inside a block (its BEGIN
    line was cut off) are masked up to its END line, or while they look like key material
    when no END line follows."""
    out = list(lines)
    first_begin = next(
        (i for i, line in enumerate(lines) if _KEY_BEGIN_LINE.search(line)), len(lines)
    )
    first_end = next((i for i, line in enumerate(lines) if _KEY_END_LINE.search(line)), None)
    start = 0
    if first_end is not None and first_end < first_begin:  # began before the first line
        out[: first_end + 1] = [MASK] * (first_end + 1)
        start = first_end + 1
    else:
        while start < first_begin and _KEY_BODY_LINE.fullmatch(lines[start]):
            out[start] = MASK
            start += 1
    in_key = False
    for index in range(start, len(lines)):
        line = lines[index]
        if in_key:
            out[index] = MASK
            in_key = not _KEY_END_LINE.search(line)
            continue
        if _KEY_BEGIN_LINE.search(line) and not _KEY_END_LINE.search(line):
            in_key = True
        out[index] = redact_credentials(line)
    return out
