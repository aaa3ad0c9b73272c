"""The demo facility's history for reviews and reports: three months of visits, finished reviews, one
overdue with the family's answers waiting, and supervision notes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from app.accounts.queries import user_by_email
from app.clients.tables import Client
from app.demo import demo_password, demo_seed
from app.reports.tables import SupervisionNote
from app.reviews.tables import FamilyReviewInput, Review
from app.visits.tables import Visit
from tests.conftest import login


async def test_the_demo_has_three_months_of_history_reviews_and_notes(client, fake_clock):
    fake_clock.now = datetime(2026, 6, 3, 13, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(timezone.utc)
    await demo_seed()
    oldest = await Visit.select(Visit.scheduled_start).order_by(Visit.scheduled_start).first().run()
    assert fake_clock.now - oldest["scheduled_start"] >= timedelta(days=85)
    past = await Visit.select(Visit.status, Visit.check_in_at, Visit.scheduled_start).where(
        (Visit.scheduled_end < fake_clock.now - timedelta(days=3)) & Visit.worker.is_not_null()).run()
    statuses = {s: sum(v["status"] == s for v in past) for s in ("completed", "cancelled", "scheduled")}
    assert all(statuses.values()), statuses  # delivered, cancelled and missed visits all happen
    late = [v for v in past if v["check_in_at"] and v["check_in_at"] - v["scheduled_start"] > timedelta(minutes=30)]
    assert 0 < len(late) < statuses["completed"] / 3
    # The history leaves the visits feature's two open concerns the only open ones.
    assert await Visit.count().where((Visit.concern == True) & Visit.concern_resolved_at.is_null()).run() == 2  # noqa: E712
    assert await Review.count().where(Review.status == "finished").run() >= 2
    waiting = await FamilyReviewInput.select(FamilyReviewInput.client, FamilyReviewInput.due_on).first().run()
    relative = await Client.select(Client.review_due).where(Client.id == waiting["client"]).first().run()
    assert relative["review_due"] == waiting["due_on"] < fake_clock.now.date()  # overdue, answers waiting
    worker = await user_by_email(email="worker@kinward.example")
    assert await SupervisionNote.count().where(SupervisionNote.worker == worker["id"]).run() == 2
    coordinator = await user_by_email(email="coordinator@kinward.example")
    await login(client, {**coordinator, "password": demo_password(coordinator["email"])})
    reviews = await client.get("/reviews")
    assert "answer waiting" in reviews.text and "overdue" in reviews.text
    assert (await client.get("/dashboard")).status_code == 200
