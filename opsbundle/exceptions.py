"""One error base for every part; the CLI maps them to exit codes.

The errors the shared package raises live here, the deploy tooling's too (their classes
are a few lines, so shipping them in every Lambda costs nothing).
"""


class OpsbundleError(Exception):
    """Work that failed: the CLI exits 1."""


class ConfigError(OpsbundleError):
    """A missing or malformed setting: the CLI exits 2 with one line naming the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class SecretError(ConfigError):
    """A secret that could not be read or does not have the expected shape."""


class SlackError(OpsbundleError):
    """Slack refused a call or could not be reached.

    `uncertain` is True when the call may have taken effect all the same (a timeout, a
    dropped connection, a 5xx): a message may have been posted.
    """

    def __init__(self, method: str, error: str, hint: str = "", *, uncertain: bool = False) -> None:
        message = f"Slack {method} failed: {error}"
        super().__init__(f"{message} ({hint})" if hint else message)
        self.method = method
        self.error = error
        self.uncertain = uncertain


class DeliveryError(OpsbundleError):
    """A notification reached none of its destinations (SNS and Slack both failed)."""


class DeployError(OpsbundleError):
    """A stack could not be changed; the message says which and where it stopped."""


class PackagingError(OpsbundleError):
    """A Lambda zip could not be built."""
