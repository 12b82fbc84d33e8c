"""A corpus of log lines for the redaction rules: every kind docs/log-shipper.md says is masked, in
every context a log line comes in, and the look-alikes that must stay.

Made by code (a fixed seed), not kept as a file: the same values go into every context, so a
context that loses them shows up as that context's recall. The contexts:

    plain           a text line: "retrying with <value> for lead 42"
    runtime         the same after a Lambda runtime's prefix (Node.js, Python)
    json            one JSON object (Powertools style), the value in a field
    nested_json     the value two objects deep
    json_in_string  a JSON text escaped inside a string field (an upstream error body)
    dotnet          as .NET's System.Text.Json writes it: + < > & ' ` and non-ASCII as \\u00XX
    php             as PHP's json_encode writes it: / as \\/, non-ASCII as \\uXXXX

Each sample names the `secret` (what must not survive, in any escaping) and how it is
written in text (`plain`) and in JSON (`field`, `value`); a value meant for a command line
only (curl -u, mysql -p) goes into JSON as the whole command.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CONTEXTS = ("plain", "runtime", "json", "nested_json", "json_in_string", "dotnet", "php")
SEED = 20261126


@dataclass(frozen=True)
class Sample:
    kind: str
    secret: str  # must not survive; for numbers, each group of 3+ digits must not
    plain: str
    field: str
    value: Any


def luhn_digit(partial: str) -> str:
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def card_number(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def _token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
FIRST = ["jane", "omar", "li", "maria", "kwame", "sven", "ana", "raj", "chloe", "dmitri"]
LAST = ["doe", "haddad", "wei", "garcia", "mensah", "olsen", "silva", "patel", "martin", "ivanov"]
DOMAINS = ["example.com", "example.org", "mail.example.co.uk", "corp.example.io", "example.law"]


def _emails(rng: random.Random) -> Iterator[Sample]:
    for index in range(28):
        first, last, domain = rng.choice(FIRST), rng.choice(LAST), rng.choice(DOMAINS)
        address = [
            f"{first}.{last}@{domain}",
            f"{first}+leads{index}@{domain}",
            f"{first.upper()}{index}@{domain}",
            f"{first}_{last}{index}@{domain}",
            f"{first[0]}{last}@{domain}",
            f"{last}.{first}-{index}@{domain}",
            f"{first}.o'{last}@{domain}",
        ][index % 7]
        plain = [
            f"email={address}",
            f"<{address}>",
            f"mailto:{address}",
            f"lead {address} signed",
            f"from: {address},",
        ][index % 5]
        yield Sample("email", address, plain, "email", address)
    for index in range(4):  # URL-encoded in a query string
        address = f"{rng.choice(FIRST)}{index}%40{rng.choice(DOMAINS)}"
        line = f"GET /leads?email={address}&page=2"
        yield Sample("email", address, line, "url", line.split(" ", 1)[1])


def _nanp(rng: random.Random) -> str:
    return f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def _us_phones(rng: random.Random) -> Iterator[Sample]:
    for index in range(28):
        digits = _nanp(rng)
        a, b, c = digits[:3], digits[3:6], digits[6:]
        written = [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"{a} {b} {c}",
            f"1-{a}-{b}-{c}",
            f"+1 {a} {b} {c}",
            f"+1-{a}-{b}-{c}",
            f"+1{digits}",
            f"({a}){b}-{c}",
        ][index % 9]
        plain = [
            f"call {written} now",
            f"phone: {written}",
            f"tel={written};",
            f"lead called from {written}.",
        ][index % 4]
        yield Sample("phone", written, plain, "phone", written)
    for index in range(6):  # ten digits in a row: only after a phone's name
        digits = _nanp(rng)
        name = ["phone", "mobile", "phone_number", "cell", "contactPhone", "tel"][index]
        value: Any = int(digits) if index % 2 else digits
        yield Sample("phone", digits, f"{name}={digits}", name, value)


def _international_phones(rng: random.Random) -> Iterator[Sample]:
    formats = [
        lambda: f"+44 20 {rng.randint(7000, 7999)} {rng.randint(1000, 9999)}",
        lambda: f"+44 (0)20 {rng.randint(7000, 7999)} {rng.randint(1000, 9999)}",
        lambda: f"+4420{rng.randint(70000000, 79999999)}",
        lambda: f"+49 30 {rng.randint(1000000, 9999999)}",
        lambda: f"+49-30-{rng.randint(1000000, 9999999)}",
        lambda: (
            f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
            f"{rng.randint(10, 99)}"
        ),
        lambda: f"+61.4{rng.randint(10, 99)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}",
        lambda: f"+81 3-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        lambda: f"+55 (11) 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        lambda: f"+91 98{rng.randint(100, 999)} {rng.randint(10000, 99999)}",
        lambda: f"+353 1 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        lambda: f"+27821234{rng.randint(100, 999)}",
    ]
    for index in range(30):
        written = formats[index % len(formats)]()
        plain = [
            f"call {written} now",
            f"mobile: {written}",
            f"whatsapp {written}.",
            f"contact={written}",
        ][index % 4]
        yield Sample("international_phone", written, plain, "phone", written)


def _ssns(rng: random.Random) -> Iterator[Sample]:
    for index in range(30):
        area = rng.choice([n for n in range(1, 900) if n != 666])
        group, serial = rng.randint(1, 99), rng.randint(1, 9999)
        digits = f"{area:03d}{group:02d}{serial:04d}"
        sep = ["-", " ", "\u2013", ""][index % 4]
        written = f"{digits[:3]}{sep}{digits[3:5]}{sep}{digits[5:]}"
        if sep:
            plain = [f"ssn {written} on file", f"SSN: {written}", f"applicant {written}."][
                index % 3
            ]
            field = ["ssn", "taxpayer", "id_number"][index % 3]
        else:  # nine digits in a row: only after an SSN's name
            plain = [f"ssn={written}", f"SSN: {written}", f"social_security_number={written}"][
                index % 3
            ]
            field = ["ssn", "SSN", "social_security_number"][index % 3]
        yield Sample("ssn", written, plain, field, written)


def _cards(rng: random.Random) -> Iterator[Sample]:
    brands = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
              ("6011", 16), ("65", 16), ("4", 13), ("3530", 16)]  # fmt: skip  # laid out as a table
    for index in range(32):
        prefix, length = brands[index % len(brands)]
        number = card_number(rng, prefix, length)
        sep = [" ", "-", ".", ""][index % 4]
        if length == 15:
            written = sep.join([number[:4], number[4:10], number[10:]])
        else:
            written = sep.join(number[i : i + 4] for i in range(0, length, 4))
        value: Any = int(number) if index % 8 == 3 else written
        plain = [f"card {written} ok", f"charging {written} for $40", f"pan={written}"][index % 3]
        yield Sample("card", written, plain, "card_number", value)


def _aws_access_keys(rng: random.Random) -> Iterator[Sample]:
    for index in range(25):
        key = ["AKIA", "ASIA"][index % 2] + _token(rng, string.ascii_uppercase + "234567", 16)
        plain = [
            f"export AWS_ACCESS_KEY_ID={key}",
            f"using key {key}",
            f"aws_access_key_id = {key}",
        ][index % 3]
        yield Sample("aws_access_key", key, plain, "AccessKeyId", key)


def _aws_secret_keys(rng: random.Random) -> Iterator[Sample]:
    for index in range(35):
        secret = _token(rng, B64, 40)
        while "/" not in secret or "+" not in secret:
            secret = _token(rng, B64, 40)
        key_id = "AKIA" + _token(rng, string.ascii_uppercase + "234567", 16)
        plain, field = [
            (f"aws_secret_access_key = {secret}", "aws_secret_access_key"),  # credentials file
            (f"AWS_SECRET_ACCESS_KEY={secret}", "AWS_SECRET_ACCESS_KEY"),  # env
            (f"{{'aws_secret_access_key': '{secret}'}}", "aws_secret_access_key"),  # boto3 kwargs
            (f'"SecretAccessKey": "{secret}"', "SecretAccessKey"),  # STS/boto3 response
            (f"secretAccessKey: '{secret}'", "secretAccessKey"),  # JS SDK
            (f"aws configure set aws_secret_access_key {secret}", "command"),  # CLI
            (f"new AWS.Credentials('{key_id}', '{secret}')", "command"),  # JS, positional
        ][index % 7]
        value = plain if field == "command" else secret
        yield Sample("aws_secret_key", secret, plain, field, value)


def _jwt(rng: random.Random, *, signed: bool = True, alg: str = "HS256") -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    claims = {"sub": str(rng.randint(1000, 99999)), "email_verified": True, "iat": 1795700000}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode())
    parts = [header.decode().rstrip("="), payload.decode().rstrip("=")]
    signature = _token(rng, URLSAFE, 342 if alg == "RS256" else 43) if signed else ""
    return ".".join([*parts, signature])


def _jwts(rng: random.Random) -> Iterator[Sample]:
    for index in range(28):
        token = _jwt(rng, signed=index % 4 != 1, alg=["HS256", "none", "RS256", "HS256"][index % 4])
        plain, field, value = [
            (f"token {token}", "token", token),
            (f"id_token={token}", "id_token", token),
            (f"Authorization: Bearer {token}", "authorization", f"Bearer {token}"),
            (f"session {token} expired", "session", token),
        ][index % 4]
        yield Sample("jwt", token, plain, field, value)


def _bearers(rng: random.Random) -> Iterator[Sample]:
    for index in range(30):
        token = _token(rng, ALNUM + "._-", rng.randint(24, 48))
        plain, field, value = [
            (f"Authorization: Bearer {token}", "authorization", f"Bearer {token}"),
            (f"authorization: bearer {token}", "headers", f"bearer {token}"),
            (f"GET /v1/leads?auth=Bearer%20{token}", "url", f"/v1/leads?auth=Bearer%20{token}"),
            (f'{{"access_token":"{token}","token_type":"Bearer"}}', "access_token", token),
            (f"refresh_token={token}", "refresh_token", token),
            (
                f"-H 'Authorization: Bearer {token}'",
                "command",
                f"curl -H 'Authorization: Bearer {token}' https://api.example.com",
            ),
        ][index % 6]
        yield Sample("bearer", token, plain, field, value)


def _basics(rng: random.Random) -> Iterator[Sample]:
    for index in range(30):
        user = rng.choice(FIRST)
        password = _token(rng, ALNUM + "!$*", rng.randint(10, 20))
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        plain, field, value, secret = [
            (f"Authorization: Basic {encoded}", "authorization", f"Basic {encoded}", encoded),
            (
                f"git clone https://{user}:{password}@git.example.com/acme/web.git",
                "remote",
                f"https://{user}:{password}@git.example.com/acme/web.git",
                password,
            ),
            (
                f"curl -u {user}:{password} https://api.example.com/leads",
                "command",
                f"curl -u {user}:{password} https://api.example.com/leads",
                password,
            ),
            (
                f"curl --user {user}:{password} https://api.example.com",
                "command",
                f"curl --user {user}:{password} https://api.example.com",
                password,
            ),
            (
                f"redis://{user}:{password}@cache.example.internal:6379/0",
                "redis_url",
                f"redis://{user}:{password}@cache.example.internal:6379/0",
                password,
            ),
        ][index % 5]
        yield Sample("basic", secret, plain, field, value)


def _slack_tokens(rng: random.Random) -> Iterator[Sample]:
    for index in range(25):
        team = f"T{_token(rng, string.ascii_uppercase + string.digits, 10)}"
        token = [
            f"xoxb-{rng.randint(10**10, 10**11)}-{rng.randint(10**12, 10**13)}-"
            f"{_token(rng, ALNUM, 24)}",
            f"xoxp-{rng.randint(10**10, 10**11)}-{rng.randint(10**10, 10**11)}-"
            f"{_token(rng, ALNUM, 32)}",
            f"xapp-1-A{_token(rng, string.ascii_uppercase, 10)}-{rng.randint(10**12, 10**13)}-"
            f"{_token(rng, 'abcdef0123456789', 64)}",
            f"{team}/B{_token(rng, string.ascii_uppercase, 10)}/{_token(rng, ALNUM, 24)}",
        ][index % 4]
        if token.startswith("T"):
            url = f"https://hooks.slack.com/services/{token}"
            yield Sample("slack_token", token, f"posting to {url}", "webhook_url", url)
        else:
            yield Sample("slack_token", token, f"SLACK_BOT_TOKEN={token}", "slack", token)


def _github_tokens(rng: random.Random) -> Iterator[Sample]:
    for index in range(25):
        token = [
            f"ghp_{_token(rng, ALNUM, 36)}",
            f"gho_{_token(rng, ALNUM, 36)}",
            f"ghs_{_token(rng, ALNUM, 36)}",
            f"github_pat_{_token(rng, ALNUM + '_', 82)}",
        ][index % 4]
        plain = [
            f"git push https://x-access-token:{token}@github.com/acme/web",
            f"GH_TOKEN {token}",
            f"using {token} for the release",
        ][index % 3]
        yield Sample("github_token", token, plain, "github", token)


def _private_keys(rng: random.Random) -> Iterator[Sample]:
    for index in range(25):
        kind = [
            "RSA PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ][index % 5]
        lines = [_token(rng, B64, 64) for _ in range(rng.randint(3, 8))] + [
            _token(rng, B64, 20) + "=="
        ]
        pem = f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----"
        secret = lines[1]  # any body line would do
        yield Sample("private_key", secret, f"loaded key:\n{pem}\nfrom the secret", "key", pem)


def _secrets(rng: random.Random) -> Iterator[Sample]:
    for index in range(35):
        secret = _token(rng, ALNUM + "!#$*-", rng.randint(10, 24))
        while secret.startswith("-"):
            secret = _token(rng, ALNUM + "!#$*-", rng.randint(10, 24))
        plain, field, value = [
            (f"password={secret}", "password", secret),
            (f'"password": "{secret}"', "password", secret),
            (f"DB_PASSWORD={secret}", "DB_PASSWORD", secret),
            (f"client_secret: {secret}", "client_secret", secret),
            (f"api_key={secret}&page=2", "apiKey", secret),
            (f"x-api-key: {secret}", "x-api-key", secret),
            (f"mysql --password={secret} -h db", "command", f"mysql --password={secret} -h db"),
            (f"mysql -uroot -p{secret} leads", "command", f"mysql -uroot -p{secret} leads"),
            (f"psql --token {secret}", "command", f"deploy --token {secret} --env prod"),
            (f"PGPASSWORD={secret} psql -h db", "smtp_pass", secret),
            (f"webhook_secret={secret}", "webhook_secret", secret),
            (f"privateKey: {secret}", "private_key", secret),
        ][index % 12]
        yield Sample("secret", secret, plain, field, value)


def _api_tokens(rng: random.Random) -> Iterator[Sample]:
    for index in range(25):
        token = [
            f"glpat-{_token(rng, URLSAFE, 20)}",
            f"npm_{_token(rng, ALNUM, 36)}",
            f"sk_live_{_token(rng, ALNUM, 24)}",
            f"rk_test_{_token(rng, ALNUM, 24)}",
            f"AIza{_token(rng, URLSAFE, 35)}",
        ][index % 5]
        plain = [
            f"registry auth {token}",
            f"using {token} for the call",
            f"https://maps.example.com/api?v={token}&q=x",
        ][index % 3]
        yield Sample("token", token, plain, "upstream", token)


SAMPLES = (
    _api_tokens,
    _emails, _us_phones, _international_phones, _ssns, _cards, _aws_access_keys,
    _aws_secret_keys, _jwts, _bearers, _basics, _slack_tokens, _github_tokens, _private_keys,
    _secrets,
)  # fmt: skip  # laid out as a table


def samples() -> list[Sample]:
    rng = random.Random(SEED)
    return [sample for make in SAMPLES for sample in make(rng)]


# --- look-alikes: what must stay -------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    h = _token(rng, "0123456789abcdef", 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"


def lookalikes() -> list[tuple[str, str, Any]]:
    """(category, field, value) of values that look like something masked but are not."""
    rng = random.Random(SEED + 1)
    out: list[tuple[str, str, Any]] = []
    for index in range(40):
        uuid = (
            "00000000-0000-0000-0000-000000000000"
            if index == 0
            else "ffffffff-ffff-ffff-ffff-ffffffffffff"
            if index == 1
            else "12345678-1234-1234-1234-123456789012"
            if index == 2
            else _uuid(rng)
        )
        out.append(("uuid", "id", uuid))
        digits_uuid = "".join(rng.choice(string.digits) for _ in range(32))
        out.append(
            (
                "uuid",
                "correlation_id",
                "-".join(
                    [
                        digits_uuid[:8],
                        digits_uuid[8:12],
                        digits_uuid[12:16],
                        digits_uuid[16:20],
                        digits_uuid[20:],
                    ]
                ),
            )
        )
        out.append(("request_id", "requestId", _token(rng, ALNUM, 14) + "="))  # API Gateway
        out.append(
            (
                "request_id",
                "x_amzn_trace_id",
                f"Root=1-{rng.randint(0x60000000, 0x6FFFFFFF):08x}-"
                f"{_token(rng, '0123456789abcdef', 24)}",
            )
        )
        out.append(("request_id", "aws_request_id", _uuid(rng)))
        out.append(("epoch_ms", "timestamp", rng.randint(1_600_000_000_000, 1_900_000_000_000)))
        out.append(("epoch_ms", "ts", str(rng.randint(1_600_000_000_000, 1_900_000_000_000))))
        out.append(("epoch_ms", "epoch", rng.randint(1_600_000_000, 1_900_000_000)))
        account = "".join(rng.choice(string.digits) for _ in range(12))
        out.append(("arn", "arn", f"arn:aws:iam::{account}:role/leads-api-{index}"))
        out.append(
            (
                "arn",
                "function_arn",
                f"arn:aws:lambda:us-east-1:{account}:function:leads-{index}:{index + 3}",
            )
        )
        out.append(("arn", "topic", f"arn:aws:sns:eu-west-1:{account}:ops-{index}"))
        out.append(
            (
                "version",
                "version",
                f"{rng.randint(0, 12)}.{rng.randint(0, 40)}.{rng.randint(0, 300)}",
            )
        )
        out.append(("version", "build", f"10.0.{rng.randint(10000, 22999)}.{rng.randint(1, 4000)}"))
        out.append(("version", "release", f"v2024.{rng.randint(1, 12)}.{rng.randint(1, 28)}"))
        out.append(("hash", "commit", _token(rng, "0123456789abcdef", 40)))
        out.append(("hash", "sha256", _token(rng, "0123456789abcdef", 64)))
        out.append(("hash", "etag", _token(rng, "0123456789abcdef", 32)))
        out.append(("hash", "digest", base64.b64encode(rng.randbytes(32)).decode()))
        out.append(
            ("sequence_number", "event_id", "".join(rng.choice(string.digits) for _ in range(56)))
        )
        out.append(
            (
                "sequence_number",
                "SequenceNumber",
                "4" + "".join(rng.choice(string.digits) for _ in range(55)),
            )
        )
        out.append(
            (
                "sequence_number",
                "sqs_sequence",
                "1" + "".join(rng.choice(string.digits) for _ in range(19)),
            )
        )
        out.append(("order_number", "order_id", rng.randint(1_000_000_000, 9_999_999_999)))
        out.append(("order_number", "order", f"#{rng.randint(100_000_000, 999_999_999)}"))
        out.append(
            (
                "order_number",
                "amazon_order",
                f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}-"
                f"{rng.randint(10**6, 10**7 - 1)}",
            )
        )
        out.append(
            (
                "order_number",
                "invoice",
                f"INV-{rng.randint(2020, 2026)}-{rng.randint(1, 999999):06d}",
            )
        )
        out.append(("order_number", "bytes", f"bytes={rng.randint(2_000_000_000, 9_999_999_999)}"))
        out.append(("order_number", "confirmation", str(rng.randint(10**11, 10**12 - 1))))
    return out


# --- contexts ----------------------------------------------------------------------------------

_DOTNET = {c: f"\\u{ord(c):04X}" for c in "+<>&'`"}


def dotnet(text: str) -> str:
    """A JSON text as System.Text.Json's default encoder writes it."""
    out = []
    for char in text:
        if char in _DOTNET:
            out.append(_DOTNET[char])
        elif ord(char) > 126:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


def php(value: Any) -> str:
    """As PHP's json_encode writes it (slashes and non-ASCII escaped)."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


def line(field: str, value: Any, plain: str, context: str, index: int) -> str:
    request = f"c0ffee{index:02d}-9d0b-4c5f-8e7a-0b1c2d3e4f5a"
    if context == "plain":
        return [f"retrying with {plain} for lead L42", f"{plain}", f"update: {plain} (attempt 2)"][
            index % 3
        ]
    if context == "runtime":
        if index % 2:
            return f"2026-11-26T15:00:00.{index % 1000:03d}Z\t{request}\tINFO\t{plain}\n"
        return f"[ERROR]\t2026-11-26T15:00:00.{index % 1000:03d}Z\t{request}\t{plain}\n"
    document: dict[str, Any]
    if context in ("json", "dotnet", "php"):
        document = {"level": "INFO", "message": "lead updated", field: value,
                    "function_request_id": request}  # fmt: skip  # laid out as a table
    elif context == "nested_json":
        # fmt: skip below: laid out as a table
        document = {
            "level": "WARNING",
            "message": "lead updated",
            "detail": {"lead": {field: value, "stage": "new"}, "attempt": 2},
        }
    else:  # json_in_string
        body = json.dumps({"error": "invalid", "request": {field: value}})
        document = {"level": "ERROR", "message": "CRM answered 400", "body": body,
                    "function_request_id": request}  # fmt: skip  # laid out as a table
    if context == "dotnet":
        return dotnet(json.dumps(document, ensure_ascii=False))
    if context == "php":
        return php(document)
    return json.dumps(document)


def fragments(sample: Sample) -> list[str]:
    """What must be gone from the redacted line (in every decoding of it)."""
    if sample.kind in ("phone", "international_phone", "ssn", "card"):
        groups = re.findall(r"\d{3,}", sample.secret)
        # a 2-digit group's neighbours hold the rest
        return groups or [re.sub(r"\D", "", sample.secret)]
    if sample.kind == "email" and "%40" in sample.secret:
        return [sample.secret, sample.secret.replace("%40", "@")]
    return [sample.secret]


_ESCAPES = re.compile(r"\\(u[0-9A-Fa-f]{4}|[\"\\/bfnrt])|%([0-9A-Fa-f]{2})")


def decodings(text: str) -> list[str]:
    """`text` and the strings inside it: JSON parsed (and JSON in its strings), %XX undone."""
    found = [text]
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str):
            found.append(item)
            if item[:1] in "{[":
                with contextlib.suppress(ValueError):
                    stack.append(json.loads(item))
        elif item is not None:
            found.append(str(item))
    return found + [
        re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), t)
        for t in found
        if "%" in t
    ]


# --- hostile inputs: each repeated to a long line, it must take linear time -----------------

HOSTILE = {
    "letters": "a",
    "digits": "1",
    "token words": "token",
    "secret names": "password=",
    "name no separator": "secret_access_key ",
    "at signs": "a@",
    "dotted": "a.",
    "jwt starts": "eyJabcd.",
    "backslashes": "\\",
    "unicode escapes": "\\u0041",
    "double escapes": '\\\\\\"',
    "percent": "%41",
    "plus digits": "+1 ",
    "digit dashes": "1-",
    "digit blanks": "12 ",
    "parentheses": "(123) ",
    "urls": "http://a:",
    "bearer words": "bearer ",
    "basic words": "Basic QUJD",
    "key begins": "-----BEGIN PRIVATE KEY-----",
    "mysql": "mysql -u ",
    "curl users": "-u a:",
    "quotes": '"',
    "access key ids": "AKIA",
    "ssn names": "ssn ",
    "phone names": "phone=",
    "long local part": "a" * 70 + "@",
    "long domain": "a@" + "b." * 10,
    "xox": "xoxb-",
    "card groups": "4111 ",
}


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Figures:
    masked: dict[tuple[str, str], list[int]]  # (kind, context) -> [masked, total]
    touched: dict[tuple[str, str], list[int]]  # (category, context) -> [changed, total]
    invalid_json: list[str]  # redacted JSON lines that no longer parse
    missed: dict[tuple[str, str], list[str]]  # (kind, context) -> lines that kept the value


def measure(redact: Any) -> Figures:
    """Runs `redact(text) -> text` over the corpus."""
    figures = Figures({}, {}, [], {})
    for index, sample in enumerate(samples()):
        for context in CONTEXTS:
            text = line(sample.field, sample.value, sample.plain, context, index)
            baseline = line(sample.field, "X", "X", context, index)
            wanted = [f for f in fragments(sample) if f not in baseline]
            out = redact(text)
            if context not in ("plain", "runtime"):
                try:
                    json.loads(out)
                except ValueError:
                    figures.invalid_json.append(out)
            left = any(f in d for d in decodings(out) for f in wanted)
            tally = figures.masked.setdefault((sample.kind, context), [0, 0])
            tally[0] += not left
            tally[1] += 1
            if left:
                figures.missed.setdefault((sample.kind, context), []).append(text)
    for index, (category, field, value) in enumerate(lookalikes()):
        plain = f"{field}={value}"
        for context in CONTEXTS:
            text = line(field, value, plain, context, index)
            tally = figures.touched.setdefault((category, context), [0, 0])
            tally[0] += redact(text) != text
            tally[1] += 1
    return figures
