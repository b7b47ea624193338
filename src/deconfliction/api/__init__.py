"""HTTP: routes, authentication, problem+json errors and the live feed."""

from deconfliction.api.app import create_app

__all__ = ["create_app"]
