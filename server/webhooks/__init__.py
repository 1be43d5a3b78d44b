"""webhooks domain: signed deliveries of touchpoints and lead changes to an external CRM."""
