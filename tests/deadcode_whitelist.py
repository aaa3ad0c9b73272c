"""Names in app/ that are used although the dead-code check cannot see it (tests/test_deadcode.py).

Litestar handlers, Piccolo columns and enum members, and names read by templates are found by
the check itself; what is left here is called by a framework by name, or is an argument a
protocol requires. Each line says who uses it.
"""
# ruff: noqa
# mypy: ignore-errors

create_app  # uvicorn's factory: `app.main:create_app` (app/cli.py serve)
APP_REGISTRY  # Piccolo reads it from the configuration module (PICCOLO_CONF=app.db)
__getattr__  # Piccolo's own commands read `DB` from app.db; module __getattr__ builds it
run_querystring  # Piccolo's Engine API, called by every query
run_ddl  # Piccolo's Engine API, called by migrations
in_pool  # an argument of Piccolo's Engine API
exc_info, exception_type, traceback  # arguments of __aexit__
should_bypass_for_scope  # Litestar's ASGIMiddleware hook
handle  # Litestar's ASGIMiddleware hook
undeclared_routes  # the route-completeness check (tests/test_policy_routes.py)
local_start  # a slot's local time, read by the schedule's daylight-saving tests
referral_counts_by_agency  # the agencies' figures (reports feature), tested in tests/liaison/test_queries.py
mtime  # tarfile.TarInfo's modification time, read by tarfile when the backup archive is written
row_factory  # sqlite3.Connection's row factory, read by sqlite3 for every fetched row
