from piccolo.columns import ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User


class SupervisionNote(Table, tablename="supervision_note"):
    """One version of the supervision note about a care worker; the newest version is the note.

    Every save adds a row (version 1, 2, ...), so what was written before stays readable; a save
    based on an older version than the newest is refused. (worker, version) is unique.
    """

    worker = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    version = Integer()
    body = Text()
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
