"""Access log without the steady stream of accepted deliveries (they would drown it)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_log import AccessLogger


class KizunaAccessLogger(AccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if response.status == 202 and request.path.endswith("/inbox"):
            return  # refusals are still logged, by the inbox and here
        super().log(request, response, time)
