"""textual-serve with each browser session told its own remote address (for the login
delay: services.login_delay), through the environment of its app process."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from outreach.services.login_delay import ENV_REMOTE_ADDRESS

log = logging.getLogger("textual-serve")


class _Session(AppService):
    def __init__(self, *args: Any, remote: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remote = remote

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment[ENV_REMOTE_ADDRESS] = self._remote or ""
        return environment


def _size(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


class AddressedServer(Server):
    """textual-serve's Server, its websocket handler as the library's own (0.x) but for the
    session class, which passes `request.remote` on."""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _size(request.query.get("width", "80"), 80)
        height = _size(request.query.get("height", "24"), 24)
        session: _Session | None = None
        try:
            await websocket.prepare(request)
            session = _Session(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
                remote=request.remote,
            )
            await session.start(width, height)
            try:
                await self._process_messages(websocket, session)
            finally:
                await session.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            if session is not None:
                await session.stop()
        return websocket
