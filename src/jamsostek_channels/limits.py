"""A channel's per-payment amount limits, and the month count that would fit them.

Retail tills take Rp10.000 – Rp5.000.000 per payment (cash at some chains at most Rp2.500.000), so
twelve months at a high income level can be over a limit. The client refuses such a payment
before any money moves (:meth:`Client.pay <jamsostek_channels.client.Client.pay>`), and
``jamsostek-channels quote --channel`` refuses the same quote: both ask :func:`amount_refusal`,
so the two cannot disagree. The refusal names the largest month count the channel takes whose
total fits (over the maximum), or the smallest that reaches the minimum (under it), priced
month by month exactly as the payment was: the months are paid oldest first and each month's
price does not depend on how many are paid with it, so ``k`` months cost the first ``k``
monthly amounts.

>>> from jamsostek_channels.channel import Capabilities, Operation
>>> till = Capabilities(frozenset({Operation.PAY}), min_amount=10_000, max_amount=100_000,
...                     month_counts=(1, 2, 3, 6))
>>> refused = amount_refusal("till", till, 6, [30_000] * 6)
>>> refused.code, refused.params["fits"], refused.params["fits_amount"]
('capability.amount_max_months', 3, 90000)
>>> amount_refusal("till", till, 3, [30_000] * 3) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

from jamsostek_channels.channel import Capabilities
from jamsostek_channels.errors import AmountLimitRefused
from jamsostek_channels.money import rupiah

__all__ = ["amount_refusal", "outside_limits"]


def outside_limits(capabilities: Capabilities, amount: int) -> bool:
    """Whether ``amount`` (the contribution, without the fee) is outside the channel's
    per-payment limits."""
    over = capabilities.max_amount is not None and amount > capabilities.max_amount
    return amount < capabilities.min_amount or over


def amount_refusal(
    channel: str,
    capabilities: Capabilities,
    months: int,
    month_amounts: Sequence[int],
    *,
    amount: int | None = None,
) -> AmountLimitRefused | None:
    """The refusal of a ``months``-month payment outside ``capabilities``' limits, or ``None``
    when it is within them.

    ``month_amounts`` are the prices of consecutive months from the first one paid, oldest
    first: at least ``months`` of them, and more (up to the channel's largest month count) to
    name a larger count under a minimum. ``amount`` is the payment's total when it is known
    apart (the host's inquiry); by default the sum of the first ``months`` amounts. A count is
    named only if the channel takes it, it is priced by ``month_amounts``, and its total is
    within both limits.
    """
    total = sum(month_amounts[:months]) if amount is None else amount
    if not outside_limits(capabilities, total):
        return None
    totals = dict(enumerate(accumulate(month_amounts), start=1))
    payable = sorted(
        count
        for count in set(capabilities.month_counts)
        if count in totals and not outside_limits(capabilities, totals[count])
    )
    over = total >= capabilities.min_amount  # else under the minimum
    if over:
        assert capabilities.max_amount is not None  # outside, and not under the minimum
        limit, code = capabilities.max_amount, "capability.amount_max"
        named = [count for count in payable if count < months][-1:]
    else:
        limit, code = capabilities.min_amount, "capability.amount_min"
        named = [count for count in payable if count > months][:1]
    params: dict[str, object] = {
        "channel": channel,
        "months": months,
        "amount": total,
        "limit": limit,
    }
    texts = {"amount_text": rupiah(total), "limit_text": rupiah(limit)}
    if named:
        (fits,) = named
        params.update(fits=fits, fits_amount=totals[fits])
        texts["fits_amount_text"] = rupiah(totals[fits])
        code += "_months"
    return AmountLimitRefused(code, params, texts=texts)
