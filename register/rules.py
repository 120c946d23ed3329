"""Pure rules: the verdict for a voter at a kiosk, given what the register holds."""

from __future__ import annotations

from valgkiosk.register.model import Checkoff, Kiosk, Verdict, Voter


def verdict_for(
    voter: Voter | None,
    existing: Checkoff | None,
    kiosk: Kiosk,
    *,
    own_station_required: bool,
) -> Verdict:
    """Decide what the clerk at ``kiosk`` meets for ``voter`` before any check-off.

    Order matters: a voter who has voted is "already voted" wherever they turn up,
    because that is what the chair must know for a special vote.
    """
    if voter is None:
        return Verdict.NOT_IN_REGISTER
    if existing is not None:
        return Verdict.ALREADY_VOTED
    if voter.kommune != kiosk.kommune:
        return Verdict.OTHER_MUNICIPALITY
    if own_station_required and voter.krets != kiosk.krets:
        return Verdict.OTHER_STATION
    return Verdict.READY
