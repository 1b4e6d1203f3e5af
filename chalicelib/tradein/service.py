"""Use cases of the trade-in domain."""

from chalicelib.events import ReceiptReturned


def void_for_return(event: ReceiptReturned) -> list[str]:
    """Void claims whose new laptop was returned (T12); returns their claim numbers."""
    return []
