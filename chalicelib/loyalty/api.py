"""HTTP routes of the loyalty domain."""

from chalice import Blueprint

bp = Blueprint(__name__)
