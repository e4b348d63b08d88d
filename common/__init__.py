"""Pure-Python code shared by the lanpos server and client.

Nothing in this package may import Flask, SQLAlchemy, Qt, ``server`` or ``client``.
"""

__version__ = "0.1.0"
