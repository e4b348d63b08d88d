"""The application's windows around the screens: login, first-run setup, the main window
(counter for everyone, back office for managers) and its server watch."""
