"""Simulated devices that speak the real wire protocol over a real broker."""
