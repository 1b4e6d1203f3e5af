"""Pure coupon rules: tiers, validity, codes, basket checks and their reason order, restore."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.coupons import rules
from chalicelib.coupons.rules import Basket, Coupon, Tier
from chalicelib.ids import fingerprint
from tests.factories import coupon_policy, make_line

TODAY = date(2017, 8, 10)
POLICY = coupon_policy()
AMBIGUOUS = set("0O1IL") | {"U"}


def code(seed: int) -> str:
    rng = random.Random(seed)
    body = "".join(rng.choice(rules.CODE_ALPHABET) for _ in range(rules.CODE_BODY_LENGTH))
    return rules.make_code(body)


def coupon(seed: int, amount: int = 2000, member: str = "m-1", status: str = "active", expires: date | None = None):
    return Coupon(
        code=code(seed),
        member_id=member,
        amount_cents=amount,
        points=amount // 2,
        issued_on=date(2017, 1, 1),
        expires_on=expires or date(2017, 12, 31),
        status=status,  # type: ignore[arg-type]
    )


def check(coupons: list[Coupon], basket: Basket, codes: list[str] | None = None, member: str = "m-1"):
    found = {c.code: c for c in coupons}
    asked = codes if codes is not None else [c.code for c in coupons]
    return rules.validate_codes(member, basket, asked, found, TODAY, POLICY)


def reasons(result: rules.Validation) -> dict[str, str]:
    return {r.code: r.reason for r in result.rejected}


BIG = Basket("store", (make_line("1", 50_000),))


@pytest.mark.rule("C1")
def test_tiers_are_the_configured_fixed_pairs():
    assert rules.tier_for(2000, POLICY.tiers) == Tier(2000, 1000)
    assert rules.tier_for(4000, POLICY.tiers) == Tier(4000, 2000)
    assert rules.tier_for(3000, POLICY.tiers) is None
    assert rules.tier_for(1000, POLICY.tiers) is None


@pytest.mark.rule("C2")
@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        (date(2017, 8, 10), date(2018, 8, 9)),
        (date(2016, 2, 29), date(2017, 2, 28)),
        (date(2017, 1, 1), date(2017, 12, 31)),
        (date(2015, 3, 1), date(2016, 2, 29)),
    ],
)
def test_a_coupon_is_valid_for_one_year_from_issue(issued, expires):
    assert rules.coupon_expires_on(issued, 1) == expires


@pytest.mark.rule("C2")
def test_an_active_coupon_past_its_last_day_reads_as_expired():
    c = coupon(1, expires=TODAY)
    assert rules.effective_status(c, TODAY) == "active"
    assert rules.effective_status(c, date(2017, 8, 11)) == "expired"
    used = coupon(1, status="used", expires=TODAY)
    assert rules.effective_status(used, date(2018, 1, 1)) == "used"


@pytest.mark.rule("C9")
def test_codes_carry_at_least_60_bits_and_no_ambiguous_characters():
    assert rules.code_bits() >= 60
    assert not AMBIGUOUS & set(rules.CODE_ALPHABET)
    assert rules.CODE_LENGTH == 14


@pytest.mark.rule("C9")
def test_every_single_mistyped_character_is_caught_by_the_check_character():
    for seed in range(20):
        good = code(seed)
        assert rules.code_is_well_formed(good)
        for pos in range(len(good)):
            for ch in rules.CODE_ALPHABET:
                if ch != good[pos]:
                    typo = good[:pos] + ch + good[pos + 1 :]
                    assert not rules.code_is_well_formed(typo), (good, typo)


@pytest.mark.rule("C9")
def test_swapped_neighbours_are_nearly_always_caught():
    caught = total = 0
    for seed in range(200):
        good = code(seed)
        for pos in range(len(good) - 1):
            if good[pos] != good[pos + 1]:
                total += 1
                caught += not rules.code_is_well_formed(good[:pos] + good[pos + 1] + good[pos] + good[pos + 2 :])
    assert caught / total > 0.95


@pytest.mark.rule("C9")
def test_typed_codes_are_normalised_and_malformed_ones_refused():
    good = code(3)
    typed = f"{good[:4].lower()}-{good[4:8]} {good[8:]}"
    assert rules.normalise_code(typed) == good
    assert not rules.code_is_well_formed(good[:-1])
    assert not rules.code_is_well_formed(good + "A")
    assert not rules.code_is_well_formed("0" + good[1:])


@pytest.mark.rule("C9")
def test_a_code_with_a_bad_check_character_is_not_found_even_if_stored():
    good = coupon(4)
    bad = good.code[:-1] + next(ch for ch in rules.CODE_ALPHABET if ch != good.code[-1])
    stored_under_bad = Coupon(**{**good.__dict__, "code": bad})
    result = rules.validate_codes("m-1", BIG, [bad], {bad: stored_under_bad}, TODAY, POLICY)
    assert reasons(result) == {bad: "NOT_FOUND"}


@pytest.mark.rule("C3")
def test_another_members_coupon_is_not_yours():
    c = coupon(1, member="m-2")
    assert reasons(check([c], BIG)) == {c.code: "NOT_YOUR_COUPON"}


@pytest.mark.rule("C5")
def test_unknown_expired_and_used_coupons_are_refused():
    unknown = code(99)
    expired = coupon(2, expires=date(2017, 8, 9))
    marked_expired = coupon(3, amount=4000, status="expired", expires=date(2018, 1, 1))
    used = coupon(4, status="used")
    result = check([expired, marked_expired, used], BIG, [unknown, expired.code, marked_expired.code, used.code])
    assert reasons(result) == {
        unknown: "NOT_FOUND",
        expired.code: "EXPIRED",
        marked_expired.code: "EXPIRED",
        used.code: "USED",
    }
    assert result.accepted == ()


@pytest.mark.rule("C5")
@pytest.mark.parametrize("channel", ["outlet", "phone_subscriptions", "marketplace"])
def test_excluded_channels_refuse_coupons(channel):
    c = coupon(1)
    assert reasons(check([c], Basket(channel, BIG.lines))) == {c.code: "CHANNEL_EXCLUDED"}


@pytest.mark.rule("C5")
def test_a_basket_of_only_services_refuses_coupons():
    c = coupon(1)
    basket = Basket(
        "store",
        (
            make_line("1", 9000, kind="service"),
            make_line("2", 9000, kind="subscription"),
            make_line("3", 9000, kind="insurance"),
        ),
    )
    assert reasons(check([c], basket)) == {c.code: "ONLY_SERVICES"}


@pytest.mark.rule("C5")
def test_reasons_follow_the_contracts_order():
    # not yours beats expired and used; expired beats used; used beats channel and basket
    foreign_expired = coupon(1, member="m-2", expires=date(2017, 1, 1))
    expired_used = coupon(2, status="used", expires=date(2017, 1, 1))
    used = coupon(3, status="used")
    fine = coupon(4, amount=4000)
    basket = Basket("outlet", (make_line("1", 100, kind="service"),))
    got = reasons(check([foreign_expired, expired_used, used, fine], basket))
    assert got == {
        foreign_expired.code: "NOT_YOUR_COUPON",
        expired_used.code: "EXPIRED",  # API.md: EXPIRED comes before USED
        used.code: "USED",
        fine.code: "CHANNEL_EXCLUDED",
    }
    # channel beats only-services; only-services beats basket size
    assert reasons(check([fine], Basket("store", basket.lines))) == {fine.code: "ONLY_SERVICES"}


@pytest.mark.rule("C5", "C6")
def test_the_eligible_basket_must_reach_20_euro_01():
    c = coupon(1, amount=2000)
    small = Basket("store", (make_line("1", 2000),))
    assert reasons(check([c], small)) == {c.code: "BASKET_TOO_SMALL"}
    just = Basket("store", (make_line("1", 2001),))
    result = check([c], just)
    assert result.rejected == ()
    assert result.discount_cents == 2000


@pytest.mark.rule("C6")
def test_the_eligible_basket_excludes_services_posa_and_external_sellers():
    lines = (
        make_line("1", 1500),
        make_line("2", 50_000, kind="service"),
        make_line("3", 50_000, kind="subscription"),
        make_line("4", 50_000, kind="insurance"),
        make_line("5", 50_000, kind="posa"),
        make_line("6", 50_000, seller="external"),
        make_line("7", 300, quantity=2),
    )
    assert rules.eligible_basket_cents(lines) == 2100
    c = coupon(1, amount=2000)
    assert check([c], Basket("store", lines)).discount_cents == 2000
    assert reasons(check([c], Basket("store", lines[:6]))) == {c.code: "BASKET_TOO_SMALL"}


@pytest.mark.rule("C6")
def test_the_discount_stays_below_the_basket_largest_coupon_first():
    small, large = coupon(1, amount=2000), coupon(2, amount=4000)
    basket = Basket("store", (make_line("1", 5000),))
    result = check([small, large], basket)
    assert [a.code for a in result.accepted] == [large.code]
    assert reasons(result) == {small.code: "BASKET_TOO_SMALL"}
    exact = Basket("store", (make_line("1", 6000),))
    assert reasons(check([small, large], exact)) == {small.code: "BASKET_TOO_SMALL"}
    roomy = Basket("store", (make_line("1", 6001),))
    assert check([small, large], roomy).discount_cents == 6000


@pytest.mark.rule("C4")
def test_two_coupons_of_the_same_amount_cannot_be_combined():
    first, second, other = coupon(1, amount=2000), coupon(2, amount=2000), coupon(3, amount=4000)
    result = check([first, second, other], BIG)
    assert [a.code for a in result.accepted] == [first.code, other.code]
    assert reasons(result) == {second.code: "DUPLICATE_AMOUNT"}
    assert result.discount_cents == 6000


@pytest.mark.rule("C4")
def test_the_same_code_twice_counts_once():
    c = coupon(1)
    result = check([c], BIG, [c.code, c.code])
    assert [a.code for a in result.accepted] == [c.code]
    assert [r.reason for r in result.rejected] == ["DUPLICATE_AMOUNT"]


@pytest.mark.rule("C8")
def test_restore_when_the_whole_receipt_comes_back():
    lines = (make_line("1", 10_000), make_line("2", 500, kind="service"))
    assert rules.restore_due(lines, {"1": 1, "2": 1}, 2000)
    assert not rules.restore_due(lines, {"2": 1}, 2000)


@pytest.mark.rule("C8")
def test_restore_when_what_is_left_is_at_or_below_the_discount():
    lines = (make_line("1", 10_000), make_line("2", 2000), make_line("3", 900, quantity=2))
    # left: 2000 + 1800 eligible
    assert not rules.restore_due(lines, {"1": 1}, 2000)
    # left: 2000 + 900 eligible, discount 4000
    assert rules.restore_due(lines, {"1": 1, "3": 1}, 4000)
    # left exactly the discount
    assert rules.restore_due(lines, {"1": 1, "3": 2}, 2000)


def test_fingerprint_is_stable_and_sensitive():
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_expiry_shards_spread_codes():
    shards = {rules.expiry_shard(code(i), 8) for i in range(200)}
    assert shards == {f"S{n}" for n in range(8)}


amounts = st.sampled_from([1000, 2000, 4000, 5000])


@pytest.mark.rule("C4", "C6")
@settings(max_examples=150, deadline=None)
@given(
    amounts=st.lists(amounts, min_size=1, max_size=6),
    prices=st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=5),
)
def test_every_code_gets_one_answer_and_the_discount_never_reaches_the_basket(amounts, prices):
    coupons = [coupon(i, amount=a) for i, a in enumerate(amounts)]
    basket = Basket("webshop", tuple(make_line(str(i), p) for i, p in enumerate(prices)))
    result = check(coupons, basket)
    answered = [a.code for a in result.accepted] + [r.code for r in result.rejected]
    assert sorted(answered) == sorted(c.code for c in coupons)
    eligible = rules.eligible_basket_cents(basket.lines)
    if result.accepted:
        assert eligible >= POLICY.min_basket_cents
        assert result.discount_cents < eligible
    assert len({a.amount_cents for a in result.accepted}) == len(result.accepted)
