"""The pipeline-failure monitor: a failed CodePipeline action → Slack (one thread per
execution) and the DevOps topic in AWS Chatbot's format, with the failing step and its last
log lines.

    event    the EventBridge state-change event → PipelineFailure (pure)
    context  what the alert says about the failure: actions, builds, stacks (data)
    enrich   asks AWS (CodePipeline, CodeBuild, CloudWatch Logs, CloudFormation)
    render   the Slack message and the Chatbot notification (pure)
    chatbot  AWS Chatbot's custom-notification schema (pure)
    monitor  a failure → enrich, render, send to each destination
    handler  the Lambda entry point
"""
