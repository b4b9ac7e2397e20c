"""Typed dependencies: the settings, the app's driver, one read session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import neo4j
from fastapi import Depends, Request
from neo4j import AsyncDriver, AsyncSession

from graph.connection import GraphUnavailable
from graph.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_driver(request: Request) -> AsyncDriver:
    driver: AsyncDriver | None = request.app.state.driver
    if driver is None:
        raise GraphUnavailable(request.app.state.driver_error)
    return driver


DriverDep = Annotated[AsyncDriver, Depends(get_driver)]


async def get_session(driver: DriverDep, settings: SettingsDep) -> AsyncIterator[AsyncSession]:
    async with driver.session(
        database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
    ) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
