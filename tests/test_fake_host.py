"""The fake BPJS Ketenagakerjaan host: registration with OTP, bills, payments, reversals,
auto-debit, settlement, and the ledger's consistency under random operations."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from conftest import TODAY, participant_data
from hypothesis import event, given
from hypothesis import strategies as st

from jamsostek_channels import parse_participant, quote
from jamsostek_channels.channel import (
    CustomerId,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    RegistrationRequest,
    ReversalState,
    SettlementState,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import HostDeclined, InvalidInput
from jamsostek_channels.model import CoverageState, Participant, Payer, PayerKind
from jamsostek_channels.period import YearMonth, month_range
from jamsostek_channels.testing.host import FakeHost

#: 10:00 WIB on the suite's "today" (Sunday 22 Nov 2026: November's due date has passed).
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)
NOV, DEC = YearMonth(2026, 11), YearMonth(2026, 12)
SEP, OCT = YearMonth(2026, 9), YearMonth(2026, 10)
JUN = YearMonth(2026, 6)
SELF = Payer.self_paid()
APBD = Payer(PayerKind.APBD, name="Pemkab Bogor")


@pytest.fixture
def host() -> FakeHost:
    return FakeHost(clock=lambda: NOW, seed=7)


def person(serial: int = 1, **changes: Any) -> Participant:
    """The conftest participant (a woman born 15 Aug 1995) with another NIK serial."""
    return parse_participant(
        participant_data(nik=f"320101550895{serial:04d}", **changes), as_of=TODAY
    )


def seeded(
    host: FakeHost,
    serial: int = 1,
    *,
    paid_through: YearMonth = SEP,
    occupations: tuple[str, ...] = ("pedagang",),
) -> tuple[Participant, CustomerId]:
    """A participant registered in June 2026 and paid from June through ``paid_through``."""
    participant = person(serial, occupations=list(occupations))
    months = list(month_range(JUN, paid_through - JUN + 1))
    host.seed(participant, registered=JUN, paid=months)
    return participant, CustomerId.nik(participant.nik)


def price(participant: Participant, start: YearMonth, months: int, payer: Payer = SELF) -> int:
    return quote(
        participant=participant,
        start=start,
        months=months,
        payer=payer,
        joined=JUN,
        allowed_months=range(1, 13),
    ).total


def pay_request(
    customer: CustomerId,
    periods: tuple[YearMonth, ...],
    amount: int,
    *,
    reference: str = "PAY-1",
    payer: Payer = SELF,
    inquiry_id: str | None = None,
    admin_fee: int = 2_500,
) -> PaymentRequest:
    return PaymentRequest(
        reference=reference,
        customer=customer,
        periods=periods,
        amount=amount,
        admin_fee=admin_fee,
        payer=payer,
        inquiry_id=inquiry_id,
        requested_at=NOW,
    )


def declined(code: str) -> Any:
    return pytest.raises(HostDeclined, match=rf"\[{code}\]")


def registration(participant: Participant, reference: str = "REG-1") -> RegistrationRequest:
    return RegistrationRequest(reference, participant, SELF, NOW)


# Registration with OTP ------------------------------------------------------------------------


def test_register_with_the_right_otp(host: FakeHost) -> None:
    participant = person()
    challenge = host.request_registration("linkaja", registration(participant))
    assert challenge.reference == "REG-1"
    assert challenge.phone_masked == "0812****7890"
    assert challenge.expires_at == NOW + dt.timedelta(minutes=5)
    (sms,) = host.sms_outbox
    assert sms.phone == "+6281234567890"
    assert f"kode OTP {sms.otp}" in sms.text
    assert len(sms.otp) == 6
    assert sms.otp.isdigit()
    assert host.last_otp("0812-3456-7890") == host.last_otp(participant.nik) == sms.otp

    done = host.confirm_registration(challenge.challenge_id, sms.otp)
    assert done.reference == "REG-1"
    assert len(done.kpj) == 11
    assert done.kpj.isdigit()
    assert done.registered == NOV
    assert done.nik_masked == "3201********0001"
    assert done.programs == participant.programs
    held = host.participant(participant.nik)
    assert held is not None
    assert (held.kpj, held.registered, held.paid) == (done.kpj, NOV, frozenset())
    assert host.participant(done.kpj) == held
    assert host.coverage(participant.nik).payable == (NOV,)


def test_wrong_otp_is_counted_and_then_the_challenge_expires(host: FakeHost) -> None:
    challenge = host.request_registration("linkaja", registration(person()))
    otp = host.last_otp(person().nik)
    wrong = f"{(int(otp) + 1) % 1_000_000:06d}"
    for _ in range(3):
        with declined("host.otp_invalid") as caught:
            host.confirm_registration(challenge.challenge_id, wrong)
        assert caught.value.host_code == "host.otp_invalid"
    with declined("host.otp_expired") as caught:
        host.confirm_registration(challenge.challenge_id, otp)  # the right code, too late
    assert caught.value.host_code == "host.otp_expired"
    assert host.participant(person().nik) is None


def test_a_wrong_try_then_the_right_code_registers(host: FakeHost) -> None:
    challenge = host.request_registration("linkaja", registration(person()))
    with declined("host.otp_invalid"):
        host.confirm_registration(challenge.challenge_id, "not-it")
    otp = host.last_otp(person().nik)
    assert host.confirm_registration(challenge.challenge_id, otp).registered == NOV


def test_otp_expires_when_the_clock_passes_its_ttl(host: FakeHost) -> None:
    challenge = host.request_registration("linkaja", registration(person()))
    otp = host.last_otp(person().nik)
    host.advance(dt.timedelta(minutes=5, seconds=1))
    with declined("host.otp_expired"):
        host.confirm_registration(challenge.challenge_id, otp)


def test_registration_request_is_idempotent_on_its_reference(host: FakeHost) -> None:
    first = host.request_registration("linkaja", registration(person()))
    again = host.request_registration("linkaja", registration(person()))
    assert again == first
    assert len(host.sms_outbox) == 1
    with declined("host.conflict"):
        host.request_registration("linkaja", registration(person(2)))


def test_confirm_is_idempotent(host: FakeHost) -> None:
    challenge = host.request_registration("linkaja", registration(person()))
    otp = host.last_otp(person().nik)
    first = host.confirm_registration(challenge.challenge_id, otp)
    assert host.confirm_registration(challenge.challenge_id, otp) == first
    with declined("host.otp_invalid"):
        host.confirm_registration(challenge.challenge_id, "000000" if otp != "000000" else "1")
    with declined("host.not_found"):
        host.confirm_registration("OTP-unknown", otp)


def test_an_active_nik_cannot_register_again(host: FakeHost) -> None:
    participant, _ = seeded(host)
    with declined("host.already_registered") as caught:
        host.request_registration("linkaja", registration(participant))
    assert caught.value.host_code == "host.already_registered"
    assert host.sms_outbox == []

    # Two open challenges for one NIK: the second confirmation finds the NIK registered.
    other = person(2)
    first = host.request_registration("linkaja", registration(other, "REG-A"))
    second = host.request_registration("kantorpos", registration(other, "REG-B"))
    first_otp = host.sms_outbox[-2].otp
    host.confirm_registration(first.challenge_id, first_otp)
    with declined("host.already_registered"):
        host.confirm_registration(second.challenge_id, host.last_otp(other.nik))


def test_an_invalid_participant_is_refused_with_every_problem(host: FakeHost) -> None:
    values = {
        name: getattr(person(), name)
        for name in ("nik", "name", "birth_date", "sex", "phone", "email", "address")
    }
    broken = Participant._trusted(
        {
            **values,
            "postal_code": "1234",
            "occupations": ("astronaut",),
            "income": 2_800_000,
            "programs": person().programs,
            "kpj": None,
        }
    )
    with pytest.raises(InvalidInput) as caught:
        host.request_registration("linkaja", registration(broken))
    codes = {p.code for p in caught.value.problems}
    assert {"postal_code.format", "occupations.unknown"} <= codes
    assert host.sms_outbox == []


def test_someone_aged_65_or_more_cannot_register(host: FakeHost) -> None:
    old = parse_participant(  # a valid participant; only registering today checks the age
        participant_data(nik="3201011001600001", birth_date="1960-01-10", sex="male"),
        as_of=dt.date(2020, 1, 1),
    )
    with pytest.raises(InvalidInput) as caught:
        host.request_registration("linkaja", registration(old))
    assert [p.code for p in caught.value.problems] == ["age.too_old"]


def test_a_lapsed_participant_registers_again_for_a_new_period(host: FakeHost) -> None:
    participant = person()
    old_months = list(month_range(YearMonth(2025, 11), 6))  # paid through Apr 2026: lapsed
    kpj = host.seed(participant, registered=YearMonth(2025, 11), paid=old_months)
    customer = CustomerId.nik(participant.nik)
    with declined("host.lapsed"):
        host.inquire(customer, 1)

    challenge = host.request_registration("linkaja", registration(participant))
    done = host.confirm_registration(challenge.challenge_id, host.last_otp(participant.nik))
    assert (done.kpj, done.registered) == (kpj, NOV)
    assert host.coverage(participant.nik).state is CoverageState.IN_ARREARS
    assert host.inquire(customer, 1).bills[0].period == NOV
    assert [h.period for h in host.history(customer)] == old_months
    held = host.participant(participant.nik)
    assert held is not None
    assert held.paid == frozenset()


def test_otps_are_deterministic_for_a_seed() -> None:
    def otps(seed: int) -> list[str]:
        fake = FakeHost(clock=lambda: NOW, seed=seed)
        for serial in (1, 2, 3):
            fake.request_registration("x", registration(person(serial), f"R{serial}"))
        return [sms.otp for sms in fake.sms_outbox]

    assert otps(1) == otps(1)
    assert otps(1) != otps(2)


# Inquiry -----------------------------------------------------------------------------------


def test_inquiry_bills_arrears_first_priced_like_quote(host: FakeHost) -> None:
    participant, customer = seeded(host, paid_through=SEP)
    inquiry = host.inquire(customer, 3, channel="linkaja")
    assert [b.period for b in inquiry.bills] == [OCT, NOV, DEC]
    assert inquiry.amount == price(participant, OCT, 3) == sum(b.amount for b in inquiry.bills)
    for bill in inquiry.bills:
        assert bill.amount == price(participant, bill.period, 1)
        assert bill.discount == "PP 50/2025"
    assert inquiry.state is CoverageState.IN_ARREARS
    assert inquiry.name_masked == "S*** R***"
    assert inquiry.admin_fee == 0
    assert inquiry.customer == customer
    by_kpj = host.inquire(CustomerId.kpj(inquiry.kpj), 3)
    assert by_kpj.bills == inquiry.bills
    assert by_kpj.inquiry_id != inquiry.inquiry_id


def test_inquiry_discount_for_a_driver_and_a_trader(host: FakeHost) -> None:
    trader, trader_id = seeded(host, 1, paid_through=OCT, occupations=("pedagang",))
    driver, driver_id = seeded(host, 2, paid_through=OCT, occupations=("ojek-online",))
    for_trader = host.inquire(trader_id, 6)
    for_driver = host.inquire(driver_id, 6)
    assert [b.discount is not None for b in for_trader.bills] == [True] * 2 + [False] * 4
    assert [b.discount is not None for b in for_driver.bills] == [True] * 5 + [False]
    assert for_trader.amount == price(trader, NOV, 6)
    assert for_driver.amount == price(driver, NOV, 6)
    assert for_driver.amount < for_trader.amount  # same income and programs
    assert for_trader.state is CoverageState.IN_ARREARS  # November unpaid past the 16th


def test_inquiry_declines_lapsed_and_unknown(host: FakeHost) -> None:
    lapsed = person(1)
    host.seed(lapsed, registered=JUN, paid=[JUN])
    with declined("host.lapsed") as caught:
        host.inquire(CustomerId.nik(lapsed.nik), 1)
    assert caught.value.host_code == "host.lapsed"
    with declined("host.customer_not_found"):
        host.inquire(CustomerId.nik(person(9).nik), 1)
    with declined("host.customer_not_found"):
        host.inquire(CustomerId.kpj("99999999999"), 1)
    with pytest.raises(InvalidInput):
        host.inquire(CustomerId.nik(lapsed.nik), 13)


# Payment -----------------------------------------------------------------------------------


def test_payment_applies_once_and_a_repeat_returns_the_original(host: FakeHost) -> None:
    participant, customer = seeded(host)
    inquiry = host.inquire(customer, 2)
    request = pay_request(customer, (OCT, NOV), inquiry.amount, inquiry_id=inquiry.inquiry_id)
    first = host.pay("linkaja", request)
    assert first.state is PaymentState.APPLIED
    assert first.host_reference is not None
    assert first.host_reference.startswith("BPJS")
    assert len(first.host_reference) == 16
    assert (first.periods, first.amount, first.paid_at) == ((OCT, NOV), inquiry.amount, NOW)

    host.advance(dt.timedelta(minutes=3))
    assert host.pay("linkaja", request) == first
    by_kpj = pay_request(CustomerId.kpj(inquiry.kpj), (OCT, NOV), inquiry.amount)
    assert host.pay("linkaja", by_kpj) == first
    (entry,) = host.ledger()
    assert (entry.kind, entry.reference, entry.amount, entry.periods) == (
        "payment",
        "PAY-1",
        inquiry.amount,
        (OCT, NOV),
    )
    assert host.coverage(participant.nik).state is CoverageState.ACTIVE
    assert host.applied_references("linkaja") == {"PAY-1"}
    assert host.applied_references("kantorpos") == set()


def test_a_reference_is_unique_within_its_scope_only(host: FakeHost) -> None:
    first, first_customer = seeded(host, 1)
    second, second_customer = seeded(host, 2)
    here = host.pay(
        "kantorpos", pay_request(first_customer, (OCT,), price(first, OCT, 1)), scope="40115"
    )
    there = host.pay(
        "kantorpos", pay_request(second_customer, (OCT,), price(second, OCT, 1)), scope="40000"
    )
    assert here.host_reference != there.host_reference
    assert host.payment_status("kantorpos", "PAY-1", scope="40115") == here
    assert host.payment_status("kantorpos", "PAY-1", scope="40000") == there
    assert host.payment_status("kantorpos", "PAY-1").state is PaymentState.NOT_FOUND
    assert host.payment_customer("kantorpos", "PAY-1", scope="40000") == second_customer
    assert host.reverse("kantorpos", "PAY-1").state is ReversalState.NOT_FOUND
    assert host.reverse("kantorpos", "PAY-1", scope="40000").state is ReversalState.REVERSED
    assert host.payment_status("kantorpos", "PAY-1", scope="40115").state is PaymentState.APPLIED
    assert [r.reference for r in host.settlement("kantorpos", TODAY, scope="40115")] == ["PAY-1"]
    assert len(host.settlement("kantorpos", TODAY)) == 2
    assert host.applied_references("kantorpos", scope="40000") == set()
    assert [(e.kind, e.scope) for e in host.ledger()] == [
        ("payment", "40115"),
        ("payment", "40000"),
        ("reversal", "40000"),
    ]


def test_same_reference_with_other_parameters_is_a_conflict(host: FakeHost) -> None:
    participant, customer = seeded(host)
    host.pay("linkaja", pay_request(customer, (OCT,), price(participant, OCT, 1)))
    with declined("host.conflict") as caught:
        host.pay("linkaja", pay_request(customer, (NOV,), price(participant, NOV, 1)))
    assert caught.value.host_code == "host.conflict"
    # The same reference on another channel is another payment.
    result = host.pay("kantorpos", pay_request(customer, (NOV,), price(participant, NOV, 1)))
    assert result.state is PaymentState.APPLIED
    assert len(host.ledger()) == 2


def test_amount_mismatch_applies_nothing(host: FakeHost) -> None:
    participant, customer = seeded(host)
    amount = price(participant, OCT, 1)
    with declined("host.amount_mismatch"):
        host.pay("linkaja", pay_request(customer, (OCT,), amount + 1))
    assert host.ledger() == ()
    assert host.payment_status("linkaja", "PAY-1").state is PaymentState.NOT_FOUND
    # Nothing was applied, so the reference may be used again with the right amount.
    assert host.pay("linkaja", pay_request(customer, (OCT,), amount)).state is PaymentState.APPLIED


def test_only_the_next_unpaid_months_can_be_paid(host: FakeHost) -> None:
    participant, customer = seeded(host)
    with declined("host.not_found"):  # skips October's arrears
        host.pay("linkaja", pay_request(customer, (NOV,), price(participant, NOV, 1)))
    with declined("host.not_found"):  # out of order
        host.pay("linkaja", pay_request(customer, (NOV, OCT), price(participant, OCT, 2)))
    with declined("host.bill_paid"):
        host.pay("linkaja", pay_request(customer, (SEP, OCT), price(participant, SEP, 2)))
    with pytest.raises(InvalidInput):
        host.pay("linkaja", pay_request(customer, (), 0))
    assert host.ledger() == ()


def test_an_apbd_payer_pays_without_the_pp_50_2025_discount(host: FakeHost) -> None:
    participant, customer = seeded(host)
    self_price = price(participant, OCT, 2)
    apbd_price = price(participant, OCT, 2, APBD)
    assert apbd_price > self_price
    full = quote(participant=participant, start=OCT, months=2, allowed_months=[2]).full_total
    assert apbd_price == full
    with declined("host.amount_mismatch"):
        host.pay("kantorpos", pay_request(customer, (OCT, NOV), self_price, payer=APBD))
    result = host.pay("kantorpos", pay_request(customer, (OCT, NOV), apbd_price, payer=APBD))
    assert result.amount == apbd_price
    assert [h.amount for h in host.history(customer)][-2:] == [apbd_price // 2] * 2


def test_payment_declines_lapsed_unknown_and_expired_inquiry(host: FakeHost) -> None:
    lapsed = person(1)
    host.seed(lapsed, registered=JUN, paid=[JUN])
    with declined("host.lapsed"):
        host.pay("x", pay_request(CustomerId.nik(lapsed.nik), (YearMonth(2026, 7),), 16_800))
    with declined("host.customer_not_found"):
        host.pay("x", pay_request(CustomerId.nik(person(9).nik), (OCT,), 16_800))

    _, customer = seeded(host, 2)
    inquiry = host.inquire(customer, 1)
    host.advance(dt.timedelta(minutes=31))
    expired = pay_request(customer, (OCT,), inquiry.amount, inquiry_id=inquiry.inquiry_id)
    with declined("host.bill_expired"):
        host.pay("x", expired)
    other = host.inquire(customer, 1)
    with declined("host.not_found"):  # someone else's inquiry
        host.pay(
            "x", pay_request(CustomerId.nik(lapsed.nik), (OCT,), 1, inquiry_id=other.inquiry_id)
        )
    # An inquiry id the host never issued is not checked.
    unknown = pay_request(customer, (OCT,), inquiry.amount, inquiry_id="INQ-from-elsewhere")
    assert host.pay("x", unknown).state is PaymentState.APPLIED


def test_two_threads_paying_one_reference_apply_it_once(host: FakeHost) -> None:
    participant, customer = seeded(host)
    request = pay_request(customer, (OCT, NOV), price(participant, OCT, 2))
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results: list[PaymentResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(host.pay("linkaja", request))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == threads_count
    assert len(set(results)) == 1
    assert [e.kind for e in host.ledger()] == ["payment"]


# Status and reversal -------------------------------------------------------------------------


def test_payment_status(host: FakeHost) -> None:
    participant, customer = seeded(host)
    assert host.payment_status("linkaja", "PAY-1") == PaymentResult("PAY-1", PaymentState.NOT_FOUND)
    applied = host.pay("linkaja", pay_request(customer, (OCT,), price(participant, OCT, 1)))
    assert host.payment_status("linkaja", "PAY-1") == applied
    assert host.payment_status("kantorpos", "PAY-1").state is PaymentState.NOT_FOUND
    host.reverse("linkaja", "PAY-1")
    reversed_ = host.payment_status("linkaja", "PAY-1")
    assert reversed_.state is PaymentState.REVERSED
    assert reversed_.host_reference == applied.host_reference


def test_reversal_on_the_same_day_is_idempotent(host: FakeHost) -> None:
    participant, customer = seeded(host)
    request = pay_request(customer, (OCT, NOV), price(participant, OCT, 2))
    host.pay("linkaja", request)
    host.advance(dt.timedelta(hours=13))  # 23:00 WIB, still the same day
    assert host.reverse("linkaja", "PAY-1").state is ReversalState.REVERSED
    assert host.coverage(participant.nik).payable == (OCT, NOV)
    assert host.reverse("linkaja", "PAY-1").state is ReversalState.REVERSED
    assert [e.kind for e in host.ledger()] == ["payment", "reversal"]
    # Repeating the reversed payment does not apply it again.
    assert host.pay("linkaja", request).state is PaymentState.REVERSED
    assert len(host.ledger()) == 2
    assert host.applied_references("linkaja") == set()


def test_reversal_on_the_next_day_is_refused(host: FakeHost) -> None:
    participant, customer = seeded(host)
    host.pay("linkaja", pay_request(customer, (OCT,), price(participant, OCT, 1)))
    host.advance(dt.timedelta(hours=14))  # midnight WIB
    refused = host.reverse("linkaja", "PAY-1")
    assert refused.state is ReversalState.REFUSED
    assert refused.host_code == "host.reversal_refused"
    assert host.payment_status("linkaja", "PAY-1").state is PaymentState.APPLIED


def test_reversal_after_a_later_payment_is_refused(host: FakeHost) -> None:
    participant, customer = seeded(host)
    host.pay("x", pay_request(customer, (OCT,), price(participant, OCT, 1), reference="A"))
    host.pay("x", pay_request(customer, (NOV,), price(participant, NOV, 1), reference="B"))
    assert host.reverse("x", "A").state is ReversalState.REFUSED
    assert host.reverse("x", "B").state is ReversalState.REVERSED
    assert host.reverse("x", "A").state is ReversalState.REVERSED
    assert host.coverage(participant.nik).payable == (OCT, NOV)


def test_reversal_of_an_unknown_payment_is_not_found(host: FakeHost) -> None:
    assert host.reverse("x", "never-sent").state is ReversalState.NOT_FOUND


@pytest.mark.parametrize(("window", "state"), [("any", "reversed"), ("never", "refused")])
def test_reversal_window_setting(window: str, state: str) -> None:
    fake = FakeHost(clock=lambda: NOW, reversal_window=window)
    participant, customer = seeded(fake)
    fake.pay("x", pay_request(customer, (OCT,), price(participant, OCT, 1)))
    fake.advance(dt.timedelta(days=2))
    assert fake.reverse("x", "PAY-1").state == state


# History, auto-debit, settlement ----------------------------------------------------------------


def test_history_lists_paid_months_per_month(host: FakeHost) -> None:
    participant, customer = seeded(host, paid_through=SEP)
    host.pay("linkaja", pay_request(customer, (OCT, NOV), price(participant, OCT, 2)))
    host.pay("x", pay_request(customer, (DEC,), price(participant, DEC, 1), reference="R"))
    host.reverse("x", "R")
    entries = host.history(customer)
    assert [e.period for e in entries] == list(month_range(JUN, 6))
    assert [e.channel for e in entries] == ["seed"] * 4 + ["linkaja"] * 2
    assert [e.amount for e in entries] == [price(participant, e.period, 1) for e in entries]
    assert entries[-1].reference == "PAY-1"
    assert entries[-1].paid_at == NOW
    with declined("host.customer_not_found"):
        host.history(CustomerId.nik(person(9).nik))


def test_autodebit_needs_the_first_month_paid(host: FakeHost) -> None:
    participant = person()
    challenge = host.request_registration("linkaja", registration(participant))
    host.confirm_registration(challenge.challenge_id, host.last_otp(participant.nik))
    customer = CustomerId.nik(participant.nik)
    with declined("host.autodebit_unpaid") as caught:
        host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1")
    assert caught.value.host_code == "host.autodebit_unpaid"
    host.pay("linkaja", pay_request(customer, (NOV,), host.inquire(customer, 1).amount))
    mandate = host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1")
    assert mandate.active
    assert mandate.next_run == dt.date(2026, 12, 1)


def test_autodebit_runs_monthly_and_a_second_run_pays_nothing(host: FakeHost) -> None:
    participant, customer = seeded(host, paid_through=NOV)
    mandate = host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1")
    assert host.run_autodebits(TODAY) == []  # December is not due yet

    host.set_clock(dt.datetime(2026, 12, 1, 6, 0, tzinfo=JAKARTA))
    (december,) = host.run_autodebits(dt.date(2026, 12, 1))
    assert december.state is PaymentState.APPLIED
    assert december.reference == f"AD-{mandate.mandate_id}-202612"
    assert (december.periods, december.amount) == ((DEC,), price(participant, DEC, 1))
    host.advance(dt.timedelta(days=3))
    assert host.run_autodebits(dt.date(2026, 12, 4)) == [december]
    assert len(host.ledger()) == 1

    host.set_clock(dt.datetime(2027, 1, 2, 6, 0, tzinfo=JAKARTA))
    (january,) = host.run_autodebits(dt.date(2027, 1, 2))
    assert january.periods == (YearMonth(2027, 1),)
    assert january.amount == price(participant, YearMonth(2027, 1), 1)  # the discount ended

    cancelled = host.cancel_autodebit(mandate.mandate_id, channel="linkaja", reference="ADC-1")
    assert (cancelled.active, cancelled.next_run) == (False, None)
    host.set_clock(dt.datetime(2027, 2, 2, 6, 0, tzinfo=JAKARTA))
    assert host.run_autodebits(dt.date(2027, 2, 2)) == []
    with declined("host.not_found"):
        host.cancel_autodebit("MD-unknown", channel="linkaja", reference="ADC-2")


def test_a_mandate_is_keyed_by_channel_and_reference(host: FakeHost) -> None:
    participant, customer = seeded(host, paid_through=NOV)
    mandate = host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1")
    # The same enrolment again (a resend after a lost answer), by NIK or by KPJ: the same one.
    assert host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1") == mandate
    kpj = host.participant(participant.nik).kpj  # type: ignore[union-attr]
    by_kpj = host.enrol_autodebit("linkaja", CustomerId.kpj(kpj), 1, SELF, reference="AD-1")
    assert by_kpj.mandate_id == mandate.mandate_id
    assert host.mandates() == [mandate]
    # The same reference for another mandate: refused, nothing made.
    for months, payer in ((2, SELF), (1, APBD)):
        with declined("host.mandate_conflict"):
            host.enrol_autodebit("linkaja", customer, months, payer, reference="AD-1")
    # The reference is the channel's: another channel's AD-1 is another mandate.
    other = host.enrol_autodebit("agen46", customer, 1, SELF, reference="AD-1")
    assert other.mandate_id != mandate.mandate_id
    assert host.mandates("linkaja") == [mandate]

    cancelled = host.cancel_autodebit(mandate.mandate_id, channel="linkaja", reference="ADC-1")
    assert not cancelled.active
    again = host.cancel_autodebit(mandate.mandate_id, channel="linkaja", reference="ADC-1")
    assert again == cancelled
    with declined("host.mandate_conflict"):
        host.cancel_autodebit(other.mandate_id, channel="linkaja", reference="ADC-1")
    assert host.mandate(other.mandate_id).active  # type: ignore[union-attr]
    # A resent enrolment answers the mandate as it stands (cancelled), never a new one.
    assert host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1") == cancelled
    assert len(host.mandates()) == 2


def test_a_declined_enrolment_leaves_its_reference_free(host: FakeHost) -> None:
    participant = person()
    challenge = host.request_registration("linkaja", registration(participant))
    host.confirm_registration(challenge.challenge_id, host.last_otp(participant.nik))
    customer = CustomerId.nik(participant.nik)
    with declined("host.autodebit_unpaid"):
        host.enrol_autodebit("linkaja", customer, 1, SELF, reference="AD-1")
    host.pay("linkaja", pay_request(customer, (NOV,), host.inquire(customer, 1).amount))
    assert host.enrol_autodebit("linkaja", customer, 2, SELF, reference="AD-1").months == 2


def test_settlement_for_a_day_includes_the_reversed_payment(host: FakeHost) -> None:
    participant, customer = seeded(host, 1)
    other, other_id = seeded(host, 2, occupations=("ojek-online",))
    host.pay("linkaja", pay_request(customer, (OCT,), price(participant, OCT, 1), reference="A"))
    host.advance(dt.timedelta(minutes=10))
    host.pay("linkaja", pay_request(other_id, (OCT,), price(other, OCT, 1), reference="B"))
    host.pay("kantorpos", pay_request(customer, (NOV,), price(participant, NOV, 1), reference="C"))
    host.reverse("linkaja", "B")
    host.advance(dt.timedelta(days=1))
    host.pay("linkaja", pay_request(other_id, (OCT,), price(other, OCT, 1), reference="D"))

    records = host.settlement("linkaja", TODAY)
    assert [(r.reference, r.state) for r in records] == [
        ("A", SettlementState.PAID),
        ("B", SettlementState.REVERSED),
    ]
    assert records[0].nik_masked == "3201********0001"
    assert records[0].admin_fee == 2_500
    assert records[1].paid_at == NOW + dt.timedelta(minutes=10)
    assert [r.reference for r in host.settlement("kantorpos", TODAY)] == ["C"]
    assert [r.reference for r in host.settlement("linkaja", TODAY + dt.timedelta(1))] == ["D"]


# Seeding, determinism and reprs -----------------------------------------------------------------


def test_seed_demo_gives_a_deterministic_mix() -> None:
    fake = FakeHost(clock=lambda: NOW, seed=3)
    people = fake.seed_demo()
    assert len(people) == 12
    assert len({p.nik for p, _ in people}) == 12
    states = [fake.coverage(p.nik) for p, _ in people]
    kinds = {s.state for s in states}
    assert {CoverageState.ACTIVE, CoverageState.IN_ARREARS, CoverageState.LAPSED} <= kinds
    assert sum(s.state is CoverageState.LAPSED for s in states) == 1
    assert sum(s.paid_through is None for s in states) == 1
    assert {len(s.payable) for s in states if s.state is CoverageState.IN_ARREARS} >= {2, 3}
    assert sum(s.paid_through == NOV for s in states) >= 4
    again = FakeHost(clock=lambda: NOW, seed=3).seed_demo()
    assert [(p.nik, kpj) for p, kpj in again] == [(p.nik, kpj) for p, kpj in people]
    fake.reset()
    assert fake.participant(people[0][0].nik) is None


@pytest.mark.parametrize(
    "later",
    [
        dt.datetime(2027, 3, 1, 8, 0, tzinfo=JAKARTA),
        dt.datetime(2031, 7, 15, 23, 30, tzinfo=JAKARTA),
        dt.datetime(2024, 2, 29, 12, 0, tzinfo=JAKARTA),
    ],
)
def test_demo_participants_depend_on_the_seed_not_on_the_date(
    later: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def who(host: FakeHost) -> list[tuple[str, str, str, dt.date]]:
        return [(p.nik, kpj, p.name, p.birth_date) for p, kpj in host.seed_demo()]

    today = who(FakeHost(clock=lambda: NOW, seed=5))
    assert who(FakeHost(clock=lambda: later, seed=5)) == today
    # the default clock is the wall clock: patched, it still gives the same people
    monkeypatch.setattr("jamsostek_channels.clock.now", lambda: later)
    assert FakeHost(seed=5).now() == later
    assert who(FakeHost(seed=5)) == today
    assert who(FakeHost(clock=lambda: later, seed=6)) != today


def test_seed_refuses_a_duplicate_and_a_month_before_registration(host: FakeHost) -> None:
    participant, _ = seeded(host)
    with pytest.raises(ValueError, match="already"):
        host.seed(participant, registered=JUN)
    with pytest.raises(ValueError, match="before"):
        host.seed(person(2), registered=JUN, paid=[YearMonth(2026, 5)])
    assert host.seed(person(3), registered=JUN, kpj="12345678901") == "12345678901"


def test_no_personal_data_in_reprs(host: FakeHost) -> None:
    participant, customer = seeded(host)
    host.pay("x", pay_request(customer, (OCT,), price(participant, OCT, 1)))
    host.request_registration("x", registration(person(2)))
    texts = [repr(host), repr(host.ledger()), repr(host.sms_outbox)]
    texts.append(repr(host.participant(participant.nik)))
    for text in texts:
        assert participant.nik not in text
        assert person(2).nik not in text
        assert "81234567890" not in text
        assert host.sms_outbox[0].otp not in text


# The ledger under random operations ------------------------------------------------------------

_operation = st.one_of(
    st.tuples(
        st.just("pay"),
        st.integers(0, 1),
        st.integers(1, 3),
        st.sampled_from([PayerKind.SELF, PayerKind.APBD]),
    ),
    st.tuples(st.just("repeat"), st.integers(0, 30)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("next-day")),
)


@given(operations=st.lists(_operation, max_size=14))
def test_ledger_stays_consistent(operations: list[tuple[Any, ...]]) -> None:
    fake = FakeHost(clock=lambda: NOW)
    people = [
        seeded(fake, 1, occupations=("pedagang",)),
        seeded(fake, 2, occupations=("ojek-online",)),
    ]
    sent: list[tuple[str, PaymentRequest]] = []
    for op in operations:
        if op[0] == "pay":
            _, who, count, kind = op
            participant, customer = people[who]
            held = fake.participant(participant.nik)
            assert held is not None
            first = max(held.paid) + 1
            periods = tuple(month_range(first, count))
            payer = SELF if kind is PayerKind.SELF else APBD
            request = pay_request(
                customer,
                periods,
                price(participant, first, count, payer),
                reference=f"P{len(sent)}",
                payer=payer,
            )
            channel = ("linkaja", "kantorpos")[len(sent) % 2]
            if periods[-1] > YearMonth.of(fake.today()) + 12:  # past what may be paid ahead
                with declined("host.not_found"):
                    fake.pay(channel, request)
                continue
            result = fake.pay(channel, request)
            assert result.state is PaymentState.APPLIED
            sent.append((channel, request))
        elif op[0] == "repeat" and sent:
            channel, request = sent[op[1] % len(sent)]
            before = fake.payment_status(channel, request.reference)
            assert fake.pay(channel, request) == before
        elif op[0] == "reverse" and sent:
            channel, request = sent[op[1] % len(sent)]
            event(f"reverse: {fake.reverse(channel, request.reference).state}")
        elif op[0] == "next-day":
            fake.advance(dt.timedelta(days=1))

    ledger = fake.ledger()
    net = sum(e.amount if e.kind == "payment" else -e.amount for e in ledger)
    applied = [
        fake.payment_status(channel, request.reference)
        for channel, request in sent
        if fake.payment_status(channel, request.reference).state is PaymentState.APPLIED
    ]
    assert net == sum(r.amount for r in applied)
    for _, customer in people:
        history = [h for h in fake.history(customer) if h.channel != "seed"]
        paid = [h.period for h in history]
        assert len(paid) == len(set(paid))
        mine = [
            m
            for (channel, request) in sent
            if request.customer == customer
            and fake.payment_status(channel, request.reference).state is PaymentState.APPLIED
            for m in request.periods
        ]
        assert sorted(mine) == paid  # each paid month belongs to exactly one applied payment
    assert sum(h.amount for _, c in people for h in fake.history(c) if h.channel != "seed") == net
    kinds_per_reference: dict[tuple[str, str], list[str]] = {}
    for entry in ledger:
        kinds_per_reference.setdefault((entry.channel, entry.reference), []).append(entry.kind)
    assert all(k in (["payment"], ["payment", "reversal"]) for k in kinds_per_reference.values())
    assert len(kinds_per_reference) == len(sent)  # repeats never applied a second time
