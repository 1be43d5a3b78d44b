"""Screens, the on-screen keypad, the lobby display and the kiosk's composition root."""
