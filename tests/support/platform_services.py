"""The test platform's LTI Advantage services (lti_tool/demo_lms/moodle_like_services.py) with fault switches for the
tool's negative tests: the token endpoint, AGS and NRPS each fail on demand.

    platform.services.ags_mode = "down"        # 503 from every AGS endpoint
    platform.services.nrps_mode = "loop"       # the last page's next link goes back to the first
    platform.services.received_scores          # every score POST the platform accepted
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Response, jsonify

from lti_tool.demo_lms.moodle_like_services import AdvantageServices, ReceivedScore

__all__ = ["PlatformServices", "ReceivedScore"]


@dataclass
class PlatformServices(AdvantageServices):
    """The services' state and fault switches; `reset()` puts them back between tests."""

    # "ok" | "down" (503) | "error" (500) | "garbage" (200, not JSON) | "refuse" (401 invalid_client) | "slow"
    token_mode: str = "ok"
    # "ok" | "down" (503) | "error" (500) | "garbage" (200, not JSON) | "forbidden" (403) | "bad_request" (400) | "slow"
    ags_mode: str = "ok"
    # "ok" | "down" | "garbage" | "loop" (last page → first) | "self_loop" (page 2 → page 2) | "slow"
    nrps_mode: str = "ok"
    slow_seconds: float = 3.0

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.token_mode = self.ags_mode = self.nrps_mode = "ok"
            self.slow_seconds = 3.0

    def _fault(self, service: str, stage: str, endpoint: str) -> Response | None:
        mode = {"token": self.token_mode, "ags": self.ags_mode, "nrps": self.nrps_mode}[service]
        if stage == "before":
            if mode == "slow":
                time.sleep(self.slow_seconds)
            if mode == "down":
                return Response("unavailable", status=503, mimetype="text/plain")
            if mode == "error":
                return Response("internal error", status=500, mimetype="text/plain")
            if service == "token" and mode == "garbage":
                return Response("<html>login page</html>", status=200, mimetype="text/html")
            if service == "token" and mode == "refuse":
                response = jsonify({"error": "invalid_client", "error_description": "unknown key"})
                response.status_code = 401
                return response
            return None
        if mode == "forbidden":
            return Response("forbidden by the platform", status=403, mimetype="text/plain")
        if mode == "bad_request":
            return Response("the platform cannot use this", status=400, mimetype="text/plain")
        if mode == "garbage" and endpoint in ("lineitems", "memberships"):
            return Response("<html>oops</html>", status=200, mimetype="text/html")
        if mode == "garbage" and endpoint == "scores":
            return Response("<html>oops</html>", status=502, mimetype="text/html")
        return None

    def _next_page(self, page: int, pages: int) -> int | None:
        if self.nrps_mode == "loop" and page == pages:
            return 1
        if self.nrps_mode == "self_loop" and page == min(2, pages):
            return page
        return super()._next_page(page, pages)
