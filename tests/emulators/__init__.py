"""Local HTTP emulators of the third-party APIs opsbundle calls: Slack Web API, HubSpot CRM
search and Salesforce REST query. Each runs on 127.0.0.1 in a daemon thread, answers with the
real API's shapes, limits and errors, and rejects what the real API rejects.

    with SlackEmulator() as slack:
        WebClient(base_url=slack.api_url, token=slack.token).chat_postMessage(...)
"""

from tests.emulators.hubspot import HubSpotEmulator, make_contacts
from tests.emulators.salesforce import SalesforceEmulator, make_leads
from tests.emulators.server import EmulatorServer, RecordedRequest
from tests.emulators.slack import SlackEmulator

__all__ = [
    "EmulatorServer",
    "HubSpotEmulator",
    "RecordedRequest",
    "SalesforceEmulator",
    "SlackEmulator",
    "make_contacts",
    "make_leads",
]
