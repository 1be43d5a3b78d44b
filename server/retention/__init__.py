"""retention domain: touchpoints, visits and the audit log are deleted after their configured time."""
