"""/docs and /redoc work offline: every asset they load is served by the hub itself."""

import re

import httpx
import pytest
from fastapi import FastAPI

from portal.apidocs import router


async def check_offline(http: httpx.AsyncClient, page: str) -> None:
    response = await http.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    # Nothing from another origin: no CDN, no font service, no validator badge.
    assert "http://" not in response.text and "https://" not in response.text
    urls = {u for u in re.findall(r'(?:src|href)="([^"]+)"', response.text)}
    assert len(urls) >= 2  # the script and the favicon (and Swagger UI's stylesheet)
    for url in urls:
        assert url.startswith("/"), url
        asset = await http.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert (await http.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_router_serves_docs_pages_with_local_assets(page: str) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        await check_offline(http, page)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_hub_serves_its_docs_offline(client: httpx.AsyncClient, page: str) -> None:
    await check_offline(client, page)


async def test_only_the_known_assets_are_served(client: httpx.AsyncClient) -> None:
    for name in ("../../__init__.py", "core.py", "nothing.js"):
        assert (await client.get(f"/docs-assets/{name}")).status_code == 404
