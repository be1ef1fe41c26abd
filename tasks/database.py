"""The database engine a worker process shares between its tasks, one per URL."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine

from tonghop.storage import create_schema, make_engine


@cache
def engine_for(url: str) -> Engine:
    """An engine with the schema in place, made once per process and URL."""
    engine = make_engine(url)
    create_schema(engine)
    return engine
