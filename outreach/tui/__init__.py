"""The agents' Textual app. No SQL here: every database call runs in a thread worker through a
service (outreach.services.*)."""
