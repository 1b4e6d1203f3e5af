"""PynamoDB models of the loyalty domain. `__all__` lists the models provisioning creates."""

__all__: list[str] = []
