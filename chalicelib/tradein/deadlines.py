"""The nightly run's deadline work (T6, T7, T8, T10): claims past their deadline lapse,
reviews an interrupted upload left are decided, e-mails an interrupted run owed go out.
Each claim on its own: one that fails is recorded in `failures` and retried next run."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib.tradein import emails, lifecycle, outbox, rules, store
from chalicelib.tradein.isolation import ItemFailures
from chalicelib.tradein.store import StaleClaim

LAPSE_REASONS = {
    "awaiting_proof": ("PROOF_NOT_RECEIVED", "Er is binnen de registratietermijn geen aankoopbewijs ontvangen."),
    "incomplete": ("NOT_COMPLETED", "De ontbrekende gegevens zijn niet binnen 7 werkdagen aangevuld."),
    # The campaign's device deadline (T8), not a fixed day: filled in per claim (G5).
    "awaiting_device": ("DEVICE_NOT_RECEIVED", "De oude laptop is niet uiterlijk {device_by} ontvangen."),
    "rejected": ("RETURN_NOT_REQUESTED", "De oude laptop is niet binnen 14 werkdagen teruggevraagd."),
}


def lapse_overdue(today: date, now: datetime, failures: ItemFailures) -> int:
    """T2/T7/T8/T10: lapse claims whose deadline (the last allowed day) is before `today`."""
    lapsed = 0
    for status, (code, text) in LAPSE_REASONS.items():
        for number in list(store.due_claim_numbers(status, today - timedelta(days=1))):
            with failures.item("lapse_overdue", number):
                claim = lifecycle.current(number, status)
                if claim is None or not rules.is_past(rules.due_on(claim, today), today):
                    continue
                reason = text.format(device_by=emails.dutch_date(claim.device_by))
                try:
                    moved = lifecycle.move(
                        claim, "lapsed", now, detail=code, lapse_reason=code, email=outbox.Lapsed(reason=reason)
                    )
                except StaleClaim:
                    continue
                lapsed += 1
                lifecycle.flush(moved, now)
    return lapsed


def finish_reviews(today: date, now: datetime, failures: ItemFailures) -> int:
    """T6: decide claims left `under_review`, so the e-mail is not late. A proof upload attaches
    and reviews in one write (`lifecycle.attach_proof`); claims attached by an earlier version in
    two writes may still wait here."""
    done = 0
    for number in list(store.due_claim_numbers("under_review", today)):
        with failures.item("finish_reviews", number):
            claim = lifecycle.current(number, "under_review")
            if claim is None:
                continue
            lifecycle.resume(claim, now)
            done += 1
    return done


def send_owed_emails(now: datetime, failures: ItemFailures) -> int:
    """T6-T13: send e-mails that an interrupted run owed; a claim whose e-mail fails (SES refuses
    it) keeps it owed for the next run and does not hold up the others."""
    sent = 0
    for number in list(store.outbox_claim_numbers()):
        with failures.item("send_owed_emails", number):
            claim = store.get_claim(number)
            if claim is None or not claim.outbox:
                continue
            sent += lifecycle.flush_counting(claim, now)[1]
    return sent
