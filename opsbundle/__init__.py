"""What the opsbundle parts share: settings, secrets, Slack, logging, metrics, AWS clients, CLI."""

__version__ = "0.1.0"
