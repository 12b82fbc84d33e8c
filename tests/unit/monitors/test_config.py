"""The monitors' settings: a wrong value stops with the variable's name."""

from __future__ import annotations

import pytest

from monitors.config import MonitorSettings
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PIPELINE_LOG_LINES": "lots"}, "PIPELINE_LOG_LINES"),
        ({"PIPELINE_LOG_LINES": "1000"}, "PIPELINE_LOG_LINES"),
        ({"TARGETS_MAX_LISTED": "0"}, "TARGETS_MAX_LISTED"),
        ({"SLACK_OPS_CHANNEL": "ops-alerts"}, "SLACK_TOKEN_SECRET_ARN"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MonitorSettings.load(Env(env))
    assert caught.value.setting == name
