"""Grafana dashboards and Prometheus alert rules from code (issue 6: not built yet)."""
