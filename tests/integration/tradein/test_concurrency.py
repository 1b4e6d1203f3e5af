"""Two registrations for one address at the same moment, over real HTTP: exactly one claim (T3)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from chalicelib import clock, flows
from chalicelib.errors import AppError
from chalicelib.loyalty.earning import record_receipt
from chalicelib.sales import Line, Receipt
from chalicelib.tradein import campaigns, eligibility, rules, store
from chalicelib.tradein.registration import Registration

ADDRESS = rules.Address(street="Damstraat", house_number=12, postcode="1012 JS", city="Amsterdam", country="NL")
PARTICIPANT = rules.Participant(
    first_name="Jan",
    last_name="Jansen",
    email="jan@example.nl",
    phone="0612345678",
    birth_date=datetime(1980, 5, 17).date(),
    address=ADDRESS,
    iban="NL91ABNA0417164300",
    account_holder="J. Jansen",
)
DECLARATIONS = rules.Declarations(True, True, True, True)


def _receipt(receipt_id: str, purchased_at: datetime) -> None:
    line = Line("1", "LT-1", "Laptop", "Lenovo", "laptop", "product", "retailer", 79900, 1)
    receipt = Receipt(receipt_id=receipt_id, channel="webshop", purchased_at=purchased_at, lines=(line,))
    record_receipt(receipt, None, {"receipt_id": receipt_id})


@pytest.mark.rule("T3")
@pytest.mark.slow
def test_simultaneous_registrations_for_one_address_give_exactly_one_claim(moto_server):
    now = clock.now()
    demo = "race-demo"
    starts, ends = campaigns.period(now.date() - timedelta(days=60), now.date() - timedelta(days=20))
    campaigns.put_campaign(demo, {"starts_at": starts, "ends_at": ends}, now)
    purchased_at = now - timedelta(days=35)
    for receipt_id in ("R-RACE-1", "R-RACE-2", "R-RACE-3", "R-RACE-4"):
        _receipt(receipt_id, purchased_at)
    # Same address, written differently, from four different purchases.
    spellings = ["1012 JS", "1012js", "1012JS", " 1012 js "]
    start = threading.Barrier(len(spellings))
    outcomes: list[str] = []
    lock = threading.Lock()

    def register(receipt_id: str, postcode: str) -> None:
        participant = replace(PARTICIPANT, address=replace(ADDRESS, postcode=postcode))
        device = rules.OldDevice("Dell", "XPS 13", 13.3, now.date() - timedelta(days=700), True, True, True, True, True)
        registration = Registration(demo, receipt_id, "1", participant, device, DECLARATIONS)
        start.wait()
        try:
            answer, _ = flows.register_claim(registration, "192.0.2.1", clock.now())
            result = answer["claim_number"]
        except AppError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=register, args=(f"R-RACE-{i + 1}", spelling)) for i, spelling in enumerate(spellings)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winners = [o for o in outcomes if o != "ADDRESS_ALREADY_CLAIMED"]
    assert len(outcomes) == 4
    assert len(winners) == 1, outcomes
    assert store.claim_number_for(eligibility.address_key(demo, ADDRESS)) == winners[0]
    assert store.get_claim(winners[0]).status == "awaiting_proof"
