"""The public results portal: ranking, map, province profiles, compare, method, open data."""

from dti.web.app import create_app
from dti.web.settings import Settings

__all__ = ["Settings", "create_app"]
