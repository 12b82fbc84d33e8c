"""Target inspector, root-login alert, pipeline-failure router (issue 4: not built yet)."""
