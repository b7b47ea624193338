"""Notices against notices: the conflict rule, a candidate index and the exact check."""
