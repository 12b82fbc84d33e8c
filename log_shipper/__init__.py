"""The log shipper: CloudWatch Logs (directly or through Kinesis) and the log files AWS writes
to S3 → OpenSearch, each event indexed once or dead-lettered with its reason; and the log
store's upkeep (templates, retention, ISM, replicas, shard sizes, `logs doctor`).

`handler` and `maintain` are the two Lambda entry points; `cli` adds `opsbundle logs`.
"""
