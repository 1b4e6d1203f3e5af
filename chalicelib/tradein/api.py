"""HTTP routes of the tradein domain."""

from chalice import Blueprint

bp = Blueprint(__name__)
