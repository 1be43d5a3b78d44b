"""Branches: configured in TOML, mirrored into the database for joins and reports."""
