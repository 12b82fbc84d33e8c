"""opsbundle.deployment.iam_policies.decide against IAM's documented evaluation logic.

The deploy-role tests trust this evaluator for what moto leaves out (conditions), so each
operator the templates use is pinned here to the IAM User Guide ("Policy evaluation logic",
"IAM JSON policy elements: Condition operators"): a missing key, IfExists, the negated
operators, multiple values (OR) and keys (AND), ForAnyValue/ForAllValues, wildcards.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsbundle.deployment.iam_policies import arn_like, condition_holds, decide, wildcard


def allow(action: str, resource: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def test_explicit_deny_wins_then_allow_else_implicit_deny() -> None:
    # fmt: skip below: laid out as a table
    statements = [
        allow("s3:*", "*"),
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::keep"},
    ]
    assert decide(statements, "s3:DeleteBucket", "arn:aws:s3:::keep") == "deny"
    assert decide(statements, "s3:DeleteBucket", "arn:aws:s3:::other") == "allow"
    assert decide(statements, "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q") == "implicit"


def test_actions_match_case_insensitively_resources_exactly() -> None:
    statements = [allow("IAM:PassRole", "arn:aws:iam::1:role/App*")]
    assert decide(statements, "iam:passrole", "arn:aws:iam::1:role/AppFn") == "allow"
    assert decide(statements, "iam:PassRole", "arn:aws:iam::1:role/appFn") == "implicit"


def test_not_action_and_not_resource() -> None:
    statement = {"Effect": "Deny", "NotAction": "iam:Get*", "NotResource": "arn:aws:s3:::ok"}
    assert decide([statement], "iam:PutRolePolicy", "arn:aws:iam::1:role/x") == "deny"
    assert decide([statement], "iam:GetRole", "arn:aws:iam::1:role/x") == "implicit"
    assert decide([statement], "s3:PutObject", "arn:aws:s3:::ok") == "implicit"


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("arn:aws:iam::1:role/stacks/dev-*", "arn:aws:iam::1:role/stacks/dev-a", True),
        ("arn:aws:iam::1:role/dev-*", "arn:aws:iam::1:role/stacks/dev-a", False),
        ("arn:aws:s3:::b-*", "arn:aws:s3:::b-1/key/with/slashes", True),
        ("arn:aws:logs:*:1:log-group:/x-*", "arn:aws:logs:eu-west-1:1:log-group:/x-y:*", True),
        ("a?c", "abc", True),
        ("a?c", "abbc", False),
    ],
)  # fmt: skip  # one case a line
def test_wildcards(pattern: str, text: str, matches: bool) -> None:
    assert wildcard(pattern, text) is matches


def test_arn_like_matches_each_part_on_its_own() -> None:
    assert arn_like(
        "arn:aws:iam::*:policy/opsbundle-stacks/*", "arn:aws:iam::1:policy/opsbundle-stacks/p"
    )
    # a * in the service part does not stand for the (empty) region of an S3 ARN
    assert not arn_like("arn:aws:*:us-east-1:1:*", "arn:aws:s3:::bucket")
    assert not arn_like("arn:aws:iam::1:policy/*", "arn:aws:iam::1:role/p")


@pytest.mark.parametrize(
    ("operator", "expected", "context", "holds"),
    [
        # a missing key fails a positive operator, passes a negated one and IfExists
        ("StringEquals", "a", {}, False),
        ("StringNotEquals", "a", {}, True),
        ("StringEqualsIfExists", "a", {}, True),
        ("ArnLike", "arn:aws:iam::1:*", {}, False),
        # several values: any of them
        ("StringEquals", ["a", "b"], {"k": "b"}, True),
        ("StringNotEquals", ["a", "b"], {"k": "b"}, False),
        ("StringNotEquals", ["a", "b"], {"k": "c"}, True),
        ("StringLike", "ab*", {"k": "abc"}, True),
        ("StringNotLike", "ab*", {"k": "abc"}, False),
        ("Bool", "true", {"k": "True"}, True),
        ("Bool", "true", {"k": "false"}, False),
        ("NumericLessThan", "1.2", {"k": "1.0"}, True),
        ("NumericLessThan", "1.2", {"k": "1.2"}, False),
        ("Null", "true", {}, True),
        ("Null", "false", {}, False),
        ("Null", "true", {"k": "x"}, False),
        # multi-valued context keys
        ("ForAnyValue:StringLike", "alias/dev-*", {"k": ["alias/prod-a", "alias/dev-b"]}, True),
        ("ForAnyValue:StringLike", "alias/dev-*", {}, False),
        ("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "b"]}, True),
        ("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "c"]}, False),
    ],
)
def test_condition_operators(
    operator: str, expected: Any, context: dict[str, Any], holds: bool
) -> None:
    assert condition_holds(operator, "k", expected, context) is holds


def test_keys_and_operators_are_all_required() -> None:
    statement = allow(
        "iam:AttachRolePolicy",
        "*",
        {
            "StringEquals": {"iam:PermissionsBoundary": "arn:b"},
            "ArnLike": {"iam:PolicyARN": "arn:aws:iam::1:policy/mine-*"},
        },
    )
    both = {"iam:PermissionsBoundary": "arn:b", "iam:PolicyARN": "arn:aws:iam::1:policy/mine-p"}
    assert decide([statement], "iam:AttachRolePolicy", "r", both) == "allow"
    admin = {**both, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert decide([statement], "iam:AttachRolePolicy", "r", admin) == "implicit"
    assert (
        decide([statement], "iam:AttachRolePolicy", "r", {"iam:PolicyARN": both["iam:PolicyARN"]})
        == "implicit"
    )


def test_a_deny_whose_condition_fails_does_not_apply() -> None:
    statements = [allow("iam:CreateRole", "*"), {
        "Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*",
        "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": "arn:b"}},
    }]  # fmt: skip  # laid out as a table
    assert (
        decide(statements, "iam:CreateRole", "r", {"iam:PermissionsBoundary": "arn:b"}) == "allow"
    )
    assert decide(statements, "iam:CreateRole", "r", {"iam:PermissionsBoundary": "arn:x"}) == "deny"
    assert decide(statements, "iam:CreateRole", "r", {}) == "deny"  # no boundary at all
