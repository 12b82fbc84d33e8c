"""The monitors' settings, read once from the environment; errors name the variable."""

from __future__ import annotations

from dataclasses import dataclass

from opsbundle import settings as names
from opsbundle.settings import Env

DEFAULT_LOG_LINES = 30
DEFAULT_MAX_LISTED = 50
DEFAULT_LOOKBACK_HOURS = 24


@dataclass(frozen=True)
class MonitorSettings:
    ops_topic_arn: str | None = None
    devops_topic_arn: str | None = None
    slack_secret_arn: str | None = None
    slack_base_url: str | None = None
    slack_ops_channel: str | None = None
    pipeline_slack_channel: str | None = None
    pipeline_log_lines: int = DEFAULT_LOG_LINES
    pipeline_thread_lookback_hours: int = DEFAULT_LOOKBACK_HOURS
    targets_max_listed: int = DEFAULT_MAX_LISTED

    @classmethod
    def load(cls, env: Env | None = None) -> MonitorSettings:
        env = env or Env()
        loaded = cls(
            ops_topic_arn=env.string(names.OPS_TOPIC_ARN),
            devops_topic_arn=env.string(names.DEVOPS_TOPIC_ARN),
            slack_secret_arn=env.string(names.SLACK_TOKEN_SECRET_ARN),
            slack_base_url=env.string(names.SLACK_BASE_URL),
            slack_ops_channel=env.string(names.SLACK_OPS_CHANNEL),
            pipeline_slack_channel=env.string(names.PIPELINE_SLACK_CHANNEL),
            pipeline_log_lines=env.integer(
                names.PIPELINE_LOG_LINES, None, DEFAULT_LOG_LINES, minimum=0, maximum=200
            ),
            pipeline_thread_lookback_hours=env.integer(
                names.PIPELINE_THREAD_LOOKBACK_HOURS,
                None,
                DEFAULT_LOOKBACK_HOURS,
                minimum=1,
                maximum=168,
            ),
            targets_max_listed=env.integer(
                names.TARGETS_MAX_LISTED, None, DEFAULT_MAX_LISTED, minimum=1, maximum=500
            ),
        )
        channels = (loaded.slack_ops_channel, loaded.pipeline_slack_channel)
        if any(channels) and not loaded.slack_secret_arn:
            env.required(names.SLACK_TOKEN_SECRET_ARN, why="a Slack channel is set")
        return loaded
