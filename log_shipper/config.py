"""The log shipper's settings, read and checked once; errors name the variable to fix."""

from __future__ import annotations

from dataclasses import dataclass, field

from log_shipper.routing import DEFAULT_INDEX, DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, Router
from log_shipper.template import Layout
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env
from opsbundle.urls import require_https, shown

AUTH_KINDS = ("none", "basic", "sigv4-es", "sigv4-aoss")
MiB = 1024 * 1024


@dataclass(frozen=True)
class ShipperSettings:
    opensearch_url: str
    auth: str = "none"
    secret_arn: str | None = None
    region: str | None = None
    timeout_seconds: int = 30
    gzip: bool = True
    router: Router = field(default_factory=Router)
    template_name: str = "opsbundle-logs"
    install_template: bool = True
    replicas: str = "auto"  # "auto" (0-1 by data nodes) or a fixed count
    data_stream: bool = False
    shard_size_gb: int = 30  # maintain sizes a family's shards to hold about this much a day
    ism: bool = True  # install ISM policies where the cluster has the plugin
    batch_bytes: int = 5 * MiB
    batch_count: int = 5000
    max_attempts: int = 8
    safety_margin_ms: int = 10_000
    max_fields: int = 200
    max_depth: int = 6
    dlq_bucket: str | None = None
    dlq_prefix: str = "log-shipper/dead-letters/"
    dlq_kms_key_id: str | None = None
    aws_region: str | None = None  # where the function runs: the documents' cloud.region

    @property
    def layout(self) -> Layout:
        return Layout(
            template_name=self.template_name, replicas=self.replicas, data_stream=self.data_stream
        )

    @classmethod
    def load(
        cls,
        env: Env | None = None,
        *,
        opensearch_url: str | None = None,
        dlq_bucket: str | None = None,
        require_dlq: bool = True,
        offline: bool = False,
    ) -> ShipperSettings:
        """`offline`: for what reads only the routes and layout (a dry run, printing the
        templates): OPENSEARCH_URL and its auth may be unset, and are not checked."""
        env = env or Env()
        if offline:
            opensearch_url = opensearch_url or env.string(names.OPENSEARCH_URL) or "offline:"
            require_dlq = False
        url = env.required(
            names.OPENSEARCH_URL, opensearch_url, why="e.g. https://search-x.es.amazonaws.com"
        )
        if not offline and not url.startswith(("http://", "https://")):
            raise ConfigError(
                names.OPENSEARCH_URL, f"must start with https:// or http://, got {shown(url)!r}"
            )
        auth = "none" if offline else env.choice(names.OPENSEARCH_AUTH, None, "none", AUTH_KINDS)
        if auth != "none":  # a password or AWS credentials (a session token) go with each call
            require_https(url, setting=names.OPENSEARCH_URL)
        secret_arn = env.string(names.OPENSEARCH_SECRET_ARN)
        if auth == "basic" and not secret_arn:
            raise ConfigError(
                names.OPENSEARCH_SECRET_ARN,
                'is not set (OPENSEARCH_AUTH=basic reads {"username", "password"} from it)',
            )
        aws_region = env.string(names.AWS_REGION)
        region = env.string(names.OPENSEARCH_REGION) or aws_region
        if auth.startswith("sigv4") and not region:
            raise ConfigError(names.OPENSEARCH_REGION, "is not set (SigV4 signs for a region)")
        bucket = env.string(names.LOG_SHIPPER_DLQ_BUCKET, dlq_bucket)
        if require_dlq and not bucket:
            raise ConfigError(
                names.LOG_SHIPPER_DLQ_BUCKET,
                "is not set (events that cannot be indexed are kept there; nothing is dropped)",
            )
        prefix = env.string(names.LOG_SHIPPER_DLQ_PREFIX, default="log-shipper/dead-letters/")
        assert prefix is not None
        return cls(
            opensearch_url=url.rstrip("/"),
            auth=auth,
            secret_arn=secret_arn,
            region=region,
            timeout_seconds=env.integer(
                names.OPENSEARCH_TIMEOUT_SECONDS, None, 30, minimum=1, maximum=300
            ),
            gzip=env.boolean(names.OPENSEARCH_GZIP, None, True),
            router=Router.load(
                default_index=env.string(names.LOG_SHIPPER_INDEX, default=DEFAULT_INDEX)
                or DEFAULT_INDEX,
                routes=env.raw(names.LOG_SHIPPER_ROUTES),
                redact=env.boolean(names.LOG_SHIPPER_REDACT),
                retention_days=_retention(env),
            ),
            template_name=env.string(names.LOG_SHIPPER_TEMPLATE, default="opsbundle-logs")
            or "opsbundle-logs",
            install_template=env.boolean(names.LOG_SHIPPER_INSTALL_TEMPLATE, None, True),
            replicas=_replicas(env),
            data_stream=env.boolean(names.LOG_SHIPPER_DATA_STREAM),
            shard_size_gb=env.integer(
                names.LOG_SHIPPER_SHARD_SIZE_GB, None, 30, minimum=1, maximum=200
            ),
            ism=env.choice(names.LOG_SHIPPER_ISM, None, "auto", ("auto", "off")) == "auto",
            batch_bytes=env.integer(
                names.LOG_SHIPPER_BATCH_BYTES, None, 5 * MiB, minimum=64 * 1024, maximum=100 * MiB
            ),
            batch_count=env.integer(
                names.LOG_SHIPPER_BATCH_COUNT, None, 5000, minimum=1, maximum=100_000
            ),
            max_attempts=env.integer(
                names.LOG_SHIPPER_MAX_ATTEMPTS, None, 8, minimum=1, maximum=50
            ),
            safety_margin_ms=env.integer(
                names.LOG_SHIPPER_SAFETY_MARGIN_MS, None, 10_000, minimum=0, maximum=600_000
            ),
            max_fields=env.integer(
                names.LOG_SHIPPER_MAX_FIELDS, None, 200, minimum=1, maximum=5000
            ),
            max_depth=env.integer(names.LOG_SHIPPER_MAX_DEPTH, None, 6, minimum=1, maximum=20),
            dlq_bucket=bucket,
            dlq_prefix=prefix if prefix.endswith("/") else prefix + "/",
            dlq_kms_key_id=env.string(names.LOG_SHIPPER_DLQ_KMS_KEY_ID),
            aws_region=aws_region,
        )


def _retention(env: Env) -> int | None:
    """Days to keep (0: for ever)."""
    days = env.integer(
        names.LOG_SHIPPER_RETENTION_DAYS,
        None,
        DEFAULT_RETENTION_DAYS,
        minimum=0,
        maximum=MAX_RETENTION_DAYS,
    )
    return days or None


MAX_REPLICAS = 5


def _replicas(env: Env) -> str:
    value = (env.string(names.LOG_SHIPPER_REPLICAS) or "auto").lower()
    if value == "auto" or (value.isdigit() and int(value) <= MAX_REPLICAS):
        return value if value == "auto" else str(int(value))
    raise ConfigError(
        names.LOG_SHIPPER_REPLICAS,
        f"must be auto (one replica once a second data node can hold it) or 0-{MAX_REPLICAS}, "
        f"got {value!r}",
    )
