"""The counter bundle's entry script (PyInstaller needs a file): the ``lanpos-client``
console script, ``client.main:main``, nothing else."""

import sys

from client.main import main

if __name__ == "__main__":
    sys.exit(main())
