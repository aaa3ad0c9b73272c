"""The care worker's day."""

from litestar import get
from litestar.response import Template


@get("/my-day", opt={"action": "my_day.view"})
async def my_day_page() -> Template:
    return Template("visits/my_day.html")
