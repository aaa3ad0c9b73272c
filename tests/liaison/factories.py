"""Agencies, providers and referrals for tests, inserted directly (services are tested on their own)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

from app import clock
from app.liaison.tables import Agency, ClientProvider, Referral
from app.web.tokens import token_hash, token_new

_n = {"n": 0}


async def make_agency(*, facility_id: int, name: Optional[str] = None, kind: str = "gp",
                      email: str = "referrals@agency.example", phone: str = "01632 961000") -> dict:
    _n["n"] += 1
    name = name or f"Agency {_n['n']}"
    rows = await Agency.insert(Agency(facility=facility_id, name=name, search_name=name.lower(), kind=kind,
                                      email=email, phone=phone)).run()
    return {"id": rows[0]["id"], "name": name, "kind": kind, "email": email, "phone": phone}


async def make_provider(*, client_id: int, agency: dict, role: Optional[str] = None, contact: str = "Dr Patel") -> int:
    rows = await ClientProvider.insert(ClientProvider(client=client_id, agency=agency["id"], role=role or agency["kind"],
                                                      contact_name=contact)).run()
    return rows[0]["id"]


async def make_referral(*, client_id: int, agency: dict, status: str = "sent", expected_by: Optional[date] = None,
                        shareable: bool = False, with_link: bool = True, reason: str = "Falls assessment") -> dict:
    """A referral in `status`; with an agency link (its token returned) when sent."""
    now = clock.utcnow()
    token = token_new() if with_link and status != "draft" else None
    rows = await Referral.insert(Referral(
        client=client_id, agency=agency["id"], reason=reason, request="Home visit", urgency="routine",
        consent_by="The client", consent_on=date(2026, 1, 1), expected_by=expected_by or date.today() + timedelta(days=14),
        status=status, shareable=shareable, sent_at=now if token else None,
        link_token_hash=token_hash(token) if token else None,
        link_expires_at=now + timedelta(days=30) if token else None,
    )).run()
    return {"id": rows[0]["id"], "token": token}
