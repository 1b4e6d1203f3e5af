"""Every domain's tables in one place, above the models (db.py sits below them, so no cycle)."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib import db
from chalicelib.coupons import models as coupon_models
from chalicelib.loyalty import models as loyalty_models
from chalicelib.reconciliation import models as reconciliation_models
from chalicelib.runs import models as run_models
from chalicelib.tradein import models as tradein_models


def all_models() -> list[type[Model]]:
    """Every PynamoDB model of every domain: the one source for provisioning and the template."""
    found: list[type[Model]] = []
    for module in (loyalty_models, coupon_models, tradein_models, run_models, reconciliation_models):
        for name in getattr(module, "__all__", []):
            found.append(getattr(module, name))
    return found


def reset_connections() -> None:
    """Forget cached clients and PynamoDB connections (tests switch endpoints between cases)."""
    db.client.cache_clear()
    db.connection.cache_clear()
    for model in all_models():
        model._connection = None
