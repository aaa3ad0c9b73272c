"""The base's one table: the creating forms already sent (see web/submissions.py). Only Piccolo and the
people it belongs to are imported here, so the table list (app/piccolo_app.py) loads before the engine."""

from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User


class FormSubmission(Table, tablename="form_submission"):
    """A creating form sent once by a person: which form, its key, and the id of what it created.

    (user, form, key) is unique (an index in the migration).
    """

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False)
    form = Varchar(length=32)
    key = Varchar(length=64)
    created_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
