"""CloudWatch Logs → OpenSearch forwarder (issue 3: not built yet)."""
