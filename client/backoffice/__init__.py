"""The back office (后台, manager / owner): one screen per list, registered once in
:mod:`client.backoffice.screens`."""
