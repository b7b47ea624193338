"""deconfliction: keeps independent forces from clashing.

Parties notify the 4D volumes of their planned activity; the service finds every conflict between
parties exactly, anywhere on Earth. See ``docs/design.md``.
"""

__version__ = "0.1.0"
