"""Log files AWS services write to S3, read into searchable fields: pure, no I/O.

One module per format, each written from the AWS documentation of that format (the module
names it). Each gives `Parsed` records: the event's own time, its fields (ECS names where the
Elastic Common Schema has one, so searches carry over; the rest under `aws.<service>.*`),
and, where the format has one, the event's own id (CloudTrail's eventID).
"""
