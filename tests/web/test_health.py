"""/healthz reports database reachability and migrations."""

from app.migrations_state import known_migrations


async def test_healthz_reports_ok_when_migrated(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "migrations_applied": True,
                               "backup": {"scheduled": False, "last_good_age_seconds": None, "last_failed": False}}


async def test_healthz_reports_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr("app.migrations_state.known_migrations", lambda: known_migrations() | {"2999-01-01T00:00:00"})
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["migrations_applied"] is False


async def test_healthz_reports_an_unreachable_database(client, monkeypatch):
    async def unreachable():
        raise OSError("connection refused")

    monkeypatch.setattr("app.health.pending_migrations", unreachable)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] is False
