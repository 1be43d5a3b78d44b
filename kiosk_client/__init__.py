"""kiosk_client: the PySide6 self-service kiosk and the lobby display."""
