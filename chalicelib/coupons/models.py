"""PynamoDB models of the coupons domain. `__all__` lists the models provisioning creates."""

__all__: list[str] = []
