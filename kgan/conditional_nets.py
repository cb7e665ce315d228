"""The old name of `kgan.nets.conditional`, kept so that code importing `kgan.conditional_nets` runs unchanged.

The module moved when kgan took a folder per concern (models/, nets/). This name
is the same module object, not a copy: `kgan.conditional_nets.X is kgan.nets.conditional.X` for every X.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("kgan.nets.conditional")
