"""Monitors: the unhealthy-target inspector, the root-login alert, the pipeline-failure router."""
