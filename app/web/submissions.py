"""A form that creates something does so once per rendering: a double click, or a retry after a lost
answer, sends the same idempotency key (`forms.idempotency_key`) and is answered with what the first
sending made.

One table of used keys per person serves every such form, rather than a column on each table it
creates rows in: one unique index, one migration, and the claim works the same for a referral as for
an agency. The claim is the first statement of the creating transaction, an INSERT ... ON CONFLICT DO
NOTHING on (user, form, key): on SQLite the transaction already holds the one writer lock
(BEGIN IMMEDIATE); on PostgreSQL a second sending's insert waits on the unique index until the first
commits (then finds its row) or rolls back (then creates, as the first would have). A sending refused
for bad input rolls its claim back with it, so the corrected form still goes through.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Awaitable, Callable

from app import clock, db
from app.web.tables import FormSubmission
from app.web.tokens import token_for_form

# A repeated submission is recognised for this long; older keys are forgotten.
SUBMISSION_KEPT = timedelta(days=2)


async def created_once(*, user_id: int, form: str, key: str, create: Callable[[], Awaitable[int]]) -> int:
    """The id `create` returns, made at most once for this person, form and key; a repeat returns the first id.

    The id is what the caller needs to answer as the first sending did: a row's id, a review's number,
    the visit a step of its log was taken on.

    Without a key (an old page, a script) `create` simply runs.
    """
    if not key:
        return await create()
    now = clock.utcnow()
    async with db.transaction():
        claimed = await FormSubmission.insert(FormSubmission(user=user_id, form=form, key=key, created_at=now)) \
            .on_conflict(action="DO NOTHING").returning(FormSubmission.id).run()
        if not claimed:
            first = await FormSubmission.select(FormSubmission.created_id).where(
                (FormSubmission.user == user_id) & (FormSubmission.form == form)
                & (FormSubmission.key == key)).first().run()
            return first["created_id"]
        created_id = await create()
        await FormSubmission.update({FormSubmission.created_id: created_id}).where(
            FormSubmission.id == claimed[0]["id"]).run()
        await FormSubmission.delete().where((FormSubmission.user == user_id)
                                            & (FormSubmission.created_at < now - SUBMISSION_KEPT)).run()
    return created_id


async def link_created_once(*, secret: str, user_id: int, form: str, key: str,
                            create: Callable[[str], Awaitable[int]]) -> str:
    """`created_once` for a form that hands out a link or a cookie: `create` gets the token, which is made
    from the form's key (`tokens.token_for_form`), so a repeat of the sending shows the same working link.
    Returns the token."""
    token = token_for_form(secret=secret, user_id=user_id, form=form, key=key)
    await created_once(user_id=user_id, form=form, key=key, create=lambda: create(token))
    return token
