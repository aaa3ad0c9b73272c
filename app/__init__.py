"""Kinward: care coordination for small community care facilities."""

import os

# Piccolo finds its engine and apps through this module; Kinward keeps both in app.db.
os.environ.setdefault("PICCOLO_CONF", "app.db")
