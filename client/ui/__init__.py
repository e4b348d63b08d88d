"""Widgets, Qt models and dialogs of the counter client. No HTTP here: views call
``client.api`` only inside ``client.tasks`` background ops."""
