"""Use cases of the coupons domain."""

from chalicelib.events import ReceiptReturned


def restore_for_return(event: ReceiptReturned) -> list[str]:
    """Restore the coupons redeemed on a returned receipt (C8); returns their codes."""
    return []
