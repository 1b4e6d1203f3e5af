"""HTTP routes of the coupons domain."""

from chalice import Blueprint

bp = Blueprint(__name__)
