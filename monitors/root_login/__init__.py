"""The root-login monitor: root account activity, in real time, by email (SNS) and Slack.

event    the CloudTrail record wrapped by EventBridge → RootActivity (pure)
render   the alert as an email and a Slack message (pure)
monitor  root activity → alert → send
handler  the Lambda entry point
"""
