"""PynamoDB models of the tradein domain. `__all__` lists the models provisioning creates."""

__all__: list[str] = []
