"""The operations: importing this package imports every module in it, and each
module's ``@operation`` functions register themselves (registry.py). A new
module here (``sts.py``, ``mfa.py`` …) needs no other change."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
