"""The family member's home."""

from litestar import get
from litestar.response import Template


@get("/family", opt={"action": "family.home"})
async def family_home() -> Template:
    return Template("messages/family.html")
