"""Widgets shared by the counter and the back office: dialogs and error text, paged lists,
the manager-approval dialog, the numpad, and the services a window is given."""
