"""alarms domain: device faults with a lifecycle, escalation and maintenance windows."""
