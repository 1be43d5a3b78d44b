"""Drivers for the kiosk's peripherals and simulators that speak the same bytes.

No Qt, no MQTT, nothing else of ours: the kiosk adapts these, never the other way round.
"""
