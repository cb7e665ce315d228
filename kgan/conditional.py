"""The old name of `kgan.models.conditional`, kept so that code importing `kgan.conditional` runs unchanged.

The module moved when kgan took a folder per concern (models/, nets/). This name
is the same module object, not a copy: `kgan.conditional.X is kgan.models.conditional.X` for every X.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("kgan.models.conditional")
