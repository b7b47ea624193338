"""Settings for the unit tests.

When a Hypothesis test fails, Hypothesis's pytest plugin imports ``hypothesis.extra._patching``
(to offer a patch with the failing example), which imports libcst; libcst 1.0 defines a
``mypy_extensions.TypedDict``, which warns with a DeprecationWarning, and with
``filterwarnings = error`` that warning turns one failing test into an INTERNALERROR that stops
the whole run. Importing it once here, with that warning silenced, keeps a failure a failure.
"""

from __future__ import annotations

import contextlib
import warnings

# without libcst, Hypothesis skips the patch and nothing needs importing
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401
