"""The device side of MQTT: broker URLs, clients with the right session settings, reliable publishing."""
