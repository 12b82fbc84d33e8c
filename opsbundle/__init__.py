"""What the opsbundle parts share at run time: settings, secrets, Slack, logging, metrics, AWS
clients, redaction, and the `opsbundle` CLI. The deployment tooling is in
`opsbundle.deployment`, which runs on a laptop or in CodeBuild and is in no Lambda's zip."""

__version__ = "0.1.0"
