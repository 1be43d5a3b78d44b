"""device_hub: the MQTT edge of the back office, and the wire contract kiosks import."""
