"""`paginate` on a real PostgreSQL table, and the bounds `page_params` puts on a list request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from servicekit.errors import install_error_handlers
from servicekit.pagination import Page, PageDep, PageParams, paginate
from servicekit.testing.plugin import PostgresDatabases

# A throw-away table of 45 rows, ids 1..45, created with a raw statement: no service owns it.
ROWS = 45
kit_row = sa.table("kit_row", sa.column("id", sa.Integer), sa.column("shelf", sa.Text))
ALL_ROWS = sa.select(kit_row.c.id).order_by(kit_row.c.id)


@pytest.fixture(scope="module")
async def engine(postgres_databases: PostgresDatabases) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(await postgres_databases.create("kitpage"))
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "CREATE TABLE kit_row (id integer PRIMARY KEY, shelf text NOT NULL)"))
        await conn.execute(sa.text(
            "INSERT INTO kit_row (id, shelf) SELECT n, 'A' FROM generate_series(1, :rows) n"),
            {"rows": ROWS})
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine) as session:
        yield session


async def test_the_first_page_has_a_next_page_but_no_previous(session: AsyncSession) -> None:
    page = await paginate(session, ALL_ROWS, PageParams(page=1, per_page=20))

    assert page.items == list(range(1, 21))
    assert (page.total, page.pages, page.has_next, page.has_prev) == (ROWS, 3, True, False)


async def test_a_middle_page_has_both_neighbours(session: AsyncSession) -> None:
    page = await paginate(session, ALL_ROWS, PageParams(page=2, per_page=20))

    assert page.items == list(range(21, 41))
    assert (page.total, page.pages, page.has_next, page.has_prev) == (ROWS, 3, True, True)


async def test_the_last_page_holds_the_remainder_and_has_no_next_page(
        session: AsyncSession) -> None:
    page = await paginate(session, ALL_ROWS, PageParams(page=3, per_page=20))

    assert page.items == list(range(41, 46))
    assert (page.total, page.pages, page.has_next, page.has_prev) == (ROWS, 3, False, True)


async def test_a_page_past_the_end_is_empty_but_still_counts_the_whole_result(
        session: AsyncSession) -> None:
    page = await paginate(session, ALL_ROWS, PageParams(page=4, per_page=20))

    assert page.items == []
    assert (page.total, page.pages, page.has_next, page.has_prev) == (ROWS, 3, False, True)


async def test_an_empty_result_has_no_pages(session: AsyncSession) -> None:
    query = ALL_ROWS.where(kit_row.c.shelf == "Z")

    page = await paginate(session, query, PageParams(page=1, per_page=20))

    assert page.items == []
    assert (page.total, page.pages, page.has_next, page.has_prev) == (0, 0, False, False)


async def test_a_transform_shapes_each_item(session: AsyncSession) -> None:
    page = await paginate(session, ALL_ROWS, PageParams(page=1, per_page=2),
                          transform=lambda row_id: {"id": row_id})

    assert page.items == [{"id": 1}, {"id": 2}]


def build_app(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/rows")
    async def list_rows(params: PageDep) -> Page[int]:
        async with AsyncSession(engine) as session:
            return await paginate(session, ALL_ROWS, params)

    return app


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(engine), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        yield client


async def test_page_params_default_to_the_first_page_of_twenty(
        client: httpx.AsyncClient) -> None:
    response = await client.get("/rows")

    body = response.json()
    assert (body["page"], body["per_page"], body["items"]) == (1, 20, list(range(1, 21)))


async def test_page_params_accept_a_hundred_per_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/rows", params={"per_page": 100})

    assert response.status_code == 200
    assert len(response.json()["items"]) == ROWS


async def test_page_params_refuse_a_page_whose_offset_no_database_can_skip_with_422(
        client: httpx.AsyncClient) -> None:
    # (page - 1) * per_page beyond a BIGINT would otherwise reach PostgreSQL and fail there.
    response = await client.get("/rows", params={"page": 10**17, "per_page": 100})

    assert response.status_code == 422
    assert list(response.json()["error"]["details"]["fields"]) == ["query.page"]


@pytest.mark.parametrize(("params", "field"), [({"per_page": 101}, "query.per_page"),
                                               ({"per_page": 0}, "query.per_page"),
                                               ({"page": 0}, "query.page")],
                         ids=["per_page-101", "per_page-0", "page-0"])
async def test_page_params_out_of_bounds_answer_422(client: httpx.AsyncClient,
                                                    params: dict[str, int], field: str) -> None:
    response = await client.get("/rows", params=params)

    assert response.status_code == 422
    assert list(response.json()["error"]["details"]["fields"]) == [field]
