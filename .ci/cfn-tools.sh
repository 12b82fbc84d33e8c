#!/usr/bin/env bash
# cfn-lint, checkov and parliament (an IAM policy linter that knows privilege-escalation
# paths) in their own virtualenv (.cache/cfn-tools): checkov pins many dependencies that would
# fight the project's. Idempotent: a second run only checks the stamp.
#   .ci/cfn-tools.sh            install (or confirm) the tools, print the venv's bin directory
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=.cache/cfn-tools
CFN_LINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30
# 1.6.3: 1.6.4 writes its arguments (and, with --files, the policies) to /tmp/parliament.log
PARLIAMENT_VERSION=1.6.3
STAMP="$VENV/.installed-$CFN_LINT_VERSION-$CHECKOV_VERSION-$PARLIAMENT_VERSION"
if [ ! -f "$STAMP" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION" \
    "parliament==$PARLIAMENT_VERSION" >&2
  touch "$STAMP"
fi
echo "$VENV/bin"
