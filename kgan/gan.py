"""The old name of `kgan.models.gan`, kept so that code importing `kgan.gan` runs unchanged.

The module moved when kgan took a folder per concern (models/, nets/). This name
is the same module object, not a copy: `kgan.gan.X is kgan.models.gan.X` for every X.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("kgan.models.gan")
