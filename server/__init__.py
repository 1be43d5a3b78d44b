"""server: the domain (customers, queueing, devices, …) and the HTTP side. No MQTT, no Qt here."""
