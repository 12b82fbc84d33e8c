"""The unhealthy-target monitor: a load balancer health alarm → which targets are not healthy,
why, and what to check, by email (SNS) and Slack.

    alarm_event    the alarm state change, from SNS, an alarm action or EventBridge (pure)
    health_metric  which load balancer or target group the alarm watches (pure)
    inspection     what an inspection found: targets, health check, datapoints (data)
    inspector      asks AWS (ELBv2 or ELB, EC2, Auto Scaling, CloudWatch): the enrichment
    reasons        what each ELB reason code means and what to check (data)
    render         the alert as an email and a Slack message (pure)
    monitor        an alarm change → inspect, render, send
    handler        the Lambda entry point
    cli            `opsbundle targets inspect`
"""
