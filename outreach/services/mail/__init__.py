"""E-mail to businesses: compose (templates, .ics), queueing (in the caller's transaction),
smtp (OUTREACH_SMTP_URL) and sender (the queue worked once, retried, audited)."""
