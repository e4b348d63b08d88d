"""lanpos counter client (PyQt6)."""
