"""The demo facility has a directory, providers for every client, referrals in every state, a share link
and disclosures."""

from app.clients.tables import Client
from tests.conftest import demo_seeded
from app import clock
from app.liaison.queries import overdue_referrals_for
from app.liaison.rules import ReferralStatus
from app.liaison.tables import Agency, ClientProvider, Disclosure, Referral, ShareLink
from app.mail.tables import Outbox


async def test_demo_liaison_covers_every_state_without_mailing_anyone():
    assert await demo_seeded()
    assert await Agency.count().run() == 12
    clients = await Client.select(Client.id).run()
    with_provider = {r["client"] for r in await ClientProvider.select(ClientProvider.client).run()}
    assert with_provider == {c["id"] for c in clients}
    statuses = {r["status"] for r in await Referral.select(Referral.status).run()}
    assert statuses == {s.value for s in ReferralStatus}
    assert await Referral.count().where(Referral.link_uses > 0).run() == 1
    assert await ShareLink.count().run() == 1
    overdue = await overdue_referrals_for(client_ids=[c["id"] for c in clients], today=clock.today_in("Europe/London"))
    assert len(overdue) == 2
    assert await Disclosure.count().run() >= 3
    assert await Outbox.count().where(Outbox.kind.like("referral%") | (Outbox.kind == "share_link")).run() == 0
