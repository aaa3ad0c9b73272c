"""The coordinator's caseload."""

from litestar import get
from litestar.response import Template


@get("/caseload", opt={"action": "caseload.view"})
async def caseload_page() -> Template:
    return Template("clients/caseload.html")
