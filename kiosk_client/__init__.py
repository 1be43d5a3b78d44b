"""The self-service kiosk and the lobby display (PySide6).

`core/` (pure flow, no Qt) · `services/` (I/O adapters, no Qt) · `workers/` (QObjects on
threads) · `ui/` (screens and the composition root).
"""
