"""One app process's scheduled-backup round, started by tests/records/test_schedule.py in two processes at once."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

from app import db
from app.records.schedule import backup_scheduled_run
from app.settings import Settings


async def main(start: Path, backup_dir: str, now: str) -> None:
    settings = Settings.from_env()
    settings = Settings(database_url=settings.database_url, env="test", backup_dir=backup_dir)
    db.configure(settings.database_url)
    await db.start()
    try:
        while not start.exists():  # both processes claim at the same moment
            time.sleep(0.01)
        result = await backup_scheduled_run(settings=settings, now=datetime.fromisoformat(now))
    finally:
        await db.stop()
    print("taken" if result.taken else "skipped", result.error)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
