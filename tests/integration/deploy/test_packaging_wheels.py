"""The real build: wheels from PyPI for python3.12/arm64, twice, byte for byte.

This test leaves 127.0.0.1: the build resolves against PyPI (pypi.org) and downloads wheels
(files.pythonhosted.org) into the project's wheel cache, .cache/wheels, the first time; the
third build here runs --offline from that cache. It skips only when PyPI can't be reached.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
import requests

from opsbundle import packaging

EM_AARCH64 = 183  # ELF e_machine for arm64


def pypi_unreachable() -> str | None:
    """Why PyPI can't be reached, through the same proxies pip would use; None if it can."""
    for url in ("https://pypi.org/simple/requests/", "https://files.pythonhosted.org/"):
        try:
            requests.head(url, timeout=10)  # any answer, even a 4xx, means it is reachable
        except requests.RequestException as error:
            return f"PyPI is unreachable ({url}: {error}); the build needs its wheels"
    return None


@pytest.fixture(scope="module")
def online() -> None:
    if reason := pypi_unreachable():
        pytest.skip(reason)


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF", "not an ELF file"
    assert data[4] == 2 and data[5] == 1, "not 64-bit little-endian"
    machine: int = struct.unpack_from("<H", data, 18)[0]
    return machine


@pytest.mark.timeout(300)  # a cold cache downloads a few MB; warm, it takes seconds
def test_report_fn_builds_byte_identical_for_lambda_arm64(
    online: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, offline = tmp_path / "first", tmp_path / "second", tmp_path / "offline"

    assert packaging.main([str(first), "--only", "report_fn"]) == 0, capsys.readouterr().err
    assert packaging.main([str(second), "--only", "report_fn"]) == 0, capsys.readouterr().err
    assert packaging.main([str(offline), "--only", "report_fn", "--offline"]) == 0

    built = (first / "report_fn.zip").read_bytes()
    assert (second / "report_fn.zip").read_bytes() == built
    assert (offline / "report_fn.zip").read_bytes() == built
    code = packaging.code_sha256(first / "report_fn.zip")
    assert (first / "report_fn.zip.sha256").read_text() == code + "\n"

    with zipfile.ZipFile(first / "report_fn.zip") as archive:
        names = archive.namelist()
        tops = {name.split("/")[0] for name in names}
        for present in (
            "report_fn",
            "opsbundle",
            "slack_sdk",
            "aws_lambda_powertools",
            "requests",
            "tzdata",
            "charset_normalizer",
        ):
            assert present in tops, f"{present} missing from the zip"
        for absent in (
            "boto3",
            "botocore",
            "s3transfer",
            "jmespath",
            "dateutil",
            "six.py",
            "urllib3",
        ):
            assert absent not in tops, f"{absent} comes with the runtime; it must not ship"
        assert "report_fn/handler.py" in names
        # Bytecode for Lambda's python3.12 only, beside each source (a cold start compiles
        # nothing); none for the build machine's own interpreter.
        cached = [n for n in names if "__pycache__" in n]
        assert all(n.endswith(".cpython-312.pyc") for n in cached)
        if packaging.find_python312():
            assert "report_fn/__pycache__/handler.cpython-312.pyc" in names

        compiled = [n for n in names if n.endswith(".so") or ".so." in n]
        assert compiled, "expected charset_normalizer's compiled extension to check its arch"
        for name in compiled:
            assert "x86_64" not in name, name
            assert elf_machine(archive.read(name)[:64]) == EM_AARCH64, f"{name} is not arm64"
