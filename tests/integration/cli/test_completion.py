"""`opsbundle completion bash`: the script bash loads, asked what it completes, as bash asks
it at a TAB (COMP_WORDS, COMP_CWORD), with no Python running."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.cli_run import clean_env, run


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run("completion", "bash", env=clean_env())
    assert result.returncode == 0, result.stderr
    path = tmp_path_factory.mktemp("completion") / "opsbundle.bash"
    path.write_text(result.stdout)
    return path


def completions(script: Path, *words: str) -> list[str]:
    """What bash offers for the last of `words` (the word being typed)."""
    line = " ".join(words)
    quoted = " ".join(f"'{word}'" for word in words)
    program = (
        f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        f"COMP_LINE='{line}'; COMP_POINT={len(line)}; _shtab_opsbundle; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(  # noqa: S603 - bash on our own script
        [bash, "-c", program], capture_output=True, text=True, check=True, env={"PATH": ""}
    )
    return result.stdout.split()


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        (("opsbundle", "lo"), ["logs"]),
        (("opsbundle", "logs", "sh"), ["ship"]),
        (("opsbundle", "report", "run", "--sou"), ["--source"]),
        (("opsbundle", "report", "run", "--source", "h"), ["hubspot"]),
        (("opsbundle", "cost", "--format", ""), ["text", "json"]),
        (("opsbundle", "completion", ""), ["bash", "zsh", "tcsh"]),
    ],
)
def test_bash_completes_commands_flags_and_choices(
    script: Path, words: tuple[str, ...], offered: list[str]
) -> None:
    assert completions(script, *words) == offered
