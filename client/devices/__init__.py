"""Counter devices, plain Python (no Qt widgets): receipt printer, cash drawer, scanners and
customer display.

- ``document``     printer-independent documents, display-width text helpers
- ``receipt``      receipt / shift report / recharge slip layout (pure functions)
- ``escpos_text``  printer profiles (gbk, gb18030, utf8, raster) and Chinese encoding
- ``raster``       CJK text to bitmap, PNG previews
- ``printer``      Document → ESC/POS bytes, backends (network, serial, usb, file)
- ``print_queue``  persisted print jobs: nothing is lost when the printer is off
- ``drawer``       cash drawer kick
- ``scanner``      serial barcode scanner;  ``wedge``: keyboard-wedge scanner (Qt filter)
- ``pole_display`` 2×20 customer display (客显)
"""
