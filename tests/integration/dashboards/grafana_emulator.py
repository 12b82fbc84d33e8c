"""A local stand-in for the parts of Grafana's HTTP API the upload uses, answering as Grafana
10/11 documents and does (https://grafana.com/docs/grafana/latest/developers/http_api/):

- every call needs `Authorization: Bearer <service account token>`, else 401
  `{"message": "Invalid API key", "messageId": "api-key.invalid"}`;
- `GET /api/folders` lists folders `[{"id", "uid", "title"}]`; `POST /api/folders` creates one
  (409 when the title exists);
- `POST /api/dashboards/db` `{"dashboard", "folderUid", "overwrite", "message"}` saves a
  dashboard by uid: 200 `{"id", "uid", "url", "status": "success", "version", "slug"}`; 400 when
  the title is empty, the uid longer than 40 or the folder unknown; 412 `version-mismatch`
  when the stored version differs and `overwrite` is false; 412 `name-exists` when another
  dashboard in the folder has the title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.server import EmulatorServer, Request, Response

INVALID_KEY = {"message": "Invalid API key", "messageId": "api-key.invalid", "statusCode": 401}


@dataclass
class Saved:
    dashboard: dict[str, Any]
    folder_uid: str
    version: int
    id: int
    messages: list[str] = field(default_factory=list)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class GrafanaEmulator(EmulatorServer):
    def __init__(self, *, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token
        self.folders: dict[str, str] = {}  # uid → title
        self.dashboards: dict[str, Saved] = {}
        self._next_id = 1

    def handle(self, request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {self.token}":
            return Response(401, INVALID_KEY)
        if request.path == "/api/folders" and request.method == "GET":
            return Response(
                200,
                [
                    {"id": i + 1, "uid": uid, "title": title}
                    for i, (uid, title) in enumerate(self.folders.items())
                ],
            )
        if request.path == "/api/folders" and request.method == "POST":
            return self._create_folder(request.body)
        if request.path == "/api/dashboards/db" and request.method == "POST":
            return self._save(request.body)
        return Response(404, {"message": "Not found"})

    def _create_folder(self, body: Any) -> Response:
        title = str(body.get("title") or "")
        if not title:
            return Response(400, {"message": "folder title cannot be empty"})
        if title in self.folders.values():
            return Response(409, {"message": "a folder with the same name already exists"})
        uid = body.get("uid") or f"f{len(self.folders) + 1:08d}"
        self.folders[uid] = title
        return Response(
            200,
            {
                "id": len(self.folders),
                "uid": uid,
                "title": title,
                "version": 1,
                "url": f"/dashboards/f/{uid}/{slug(title)}",
            },
        )

    def _save(self, body: Any) -> Response:  # noqa: PLR0911 - one answer per documented case
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            return Response(400, {"message": "bad request data"})
        board = body["dashboard"]
        title, uid = str(board.get("title") or ""), str(board.get("uid") or "")
        folder = str(body.get("folderUid") or "")
        if not title.strip():
            return Response(400, {"message": "Dashboard title cannot be empty"})
        if len(uid) > 40:
            return Response(400, {"message": "uid too long, max 40 characters"})
        if folder and folder not in self.folders:
            return Response(400, {"message": "folder not found"})
        for other_uid, other in self.dashboards.items():
            if (
                other_uid != uid
                and other.folder_uid == folder
                and other.dashboard["title"] == title
            ):
                return Response(
                    412,
                    {
                        "message": "A dashboard with the same name in the folder already exists",
                        "status": "name-exists",
                    },
                )
        existing = self.dashboards.get(uid)
        if existing and not body.get("overwrite") and board.get("version") != existing.version:
            return Response(
                412,
                {
                    "message": "The dashboard has been changed by someone else",
                    "status": "version-mismatch",
                },
            )
        if existing:
            existing.dashboard, existing.folder_uid = board, folder
            existing.version += 1
            saved = existing
        else:
            saved = Saved(board, folder, 1, self._next_id)
            self._next_id += 1
            self.dashboards[uid] = saved
        saved.messages.append(str(body.get("message") or ""))
        return Response(
            200,
            {
                "id": saved.id,
                "uid": uid,
                "status": "success",
                "version": saved.version,
                "slug": slug(title),
                "url": f"/d/{uid}/{slug(title)}",
            },
        )
