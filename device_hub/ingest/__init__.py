"""Reliable ingest: MQTT in, validated batches into the database, acknowledged after the commit."""
