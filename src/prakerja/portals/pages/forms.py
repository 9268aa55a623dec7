"""The posted form as plain strings (files and repeated fields are not used by the portals' forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

MAX_VALUE = 20_000
"""Longest value kept from one field (the syllabus is the longest)."""


async def _form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value[:MAX_VALUE] for key, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(_form_data)]


async def _provinces(request: Request) -> list[str]:
    form = await request.form()
    return [value for value in form.getlist("provinces") if isinstance(value, str)][:100]


Provinces = Annotated[list[str], Depends(_provinces)]
"""The ticked province codes of a profile form."""
