"""Grafana dashboards (grafanalib) and Prometheus alert rules, from code.

One module per dashboard (`lambda_health`, `load_balancers`, `ec2_hosts`, `rds`, `containers`,
`opsbundle_self`), each with `build() -> dict` returning Grafana 10+ dashboard JSON; the
shared conventions and grafanalib fixes in `conventions`; `build` writes them and the rules
(`rules/*.yml`) to `generated/`; `upload` saves them in Grafana; `check` runs their queries on
a live Prometheus and says which panels would be empty and why (`promql` reads the selectors
out of a query for it); `cli` adds `opsbundle dashboards build|upload|check`.
"""
