"""The lead report: CRM → aggregate → Slack Block Kit, three times a day, once per slot."""
