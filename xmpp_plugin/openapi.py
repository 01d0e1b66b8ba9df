"""The OpenAPI 3.1 description of every route (a test compares it with the router)."""

from __future__ import annotations

from typing import Any

from . import __version__
from .settings import Settings

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds after which trying again is worth it",
                                "schema": {"type": "integer"}}}


def _problems(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid request or token", 403: "The chat belongs to another browser", 404: "Unknown session or attr_url",
            409: "Token already used for another session, or attributes already present",
            413: "Body too large", 414: "Path and query longer than 8190 bytes",
            415: "Wrong Content-Type",
            431: "A header longer than 8190 bytes, or all together over 32 KiB",
            503: "Redis unavailable, too slow or failing over: try again after Retry-After"}
    return {str(c): {"description": text[c], "content": _PROBLEM,
                     **({"headers": _RETRY_AFTER} if c == 503 else {})} for c in codes}


def document(settings: Settings) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/start_communication": {"post": {
            "operationId": "post_start_communication", "tags": ["internal"],
            "summary": "Start a chat session (called by the ID Contact core)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["purpose"],
                "properties": {"purpose": {"type": "string", "maxLength": 100},
                               "auth_result": {"type": "string",
                                               "description": "Compact JWE auth-result token"}}}}}},
            "responses": {"200": {"description": "Session created", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["client_url"],
                    "properties": {"client_url": {"type": "string", "format": "uri"},
                                   "attr_url": {"type": "string", "format": "uri"}}}}}},
                          **_problems(400, 409, 413, 415, 503)}}},
        "/attributes/{attr_id}": {"post": {
            "operationId": "post_attributes", "tags": ["internal"],
            "summary": "Deliver the auth-result token (single use)",
            "parameters": [_path_param("attr_id")],
            "requestBody": {"required": True, "content": {"application/jwt": {
                "schema": {"type": "string"}}}},
            "responses": {"200": {"description": "Accepted"},
                          **_problems(400, 404, 409, 413, 415, 503)}}},
        "/s/{sid}": {"get": {
            "operationId": "get_client_page", "tags": ["public"],
            "summary": "The citizen's chat page (client_url)",
            "parameters": [_path_param("sid"),
                           {"name": "result", "in": "query", "required": False,
                            "schema": {"type": "string"}},
                           {"name": "lang", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["nl", "en"]}}],
            "description": "A `result` token is accepted only from the browser the chat is bound "
                           "to, or on the first visit, which binds the browser (cookie "
                           "`idchat_browser`); from another browser it is `403 result-other-browser` "
                           "and changes nothing.",
            "responses": {"200": {"description": "The page", "content": {"text/html": {}}},
                          "303": {"description": "Token stored; redirect without it"},
                          **_problems(400, 403, 404, 409, 503)}}},
        "/s/{sid}/ticket": {"post": {
            "operationId": "post_ticket", "tags": ["public"],
            "summary": "A fresh one-time claim ticket for the citizen page (same browser only)",
            "parameters": [_path_param("sid")],
            "responses": {"200": {"description": "The ticket", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"ticket": {"type": "string"}}}}}},
                          **_problems(403, 404, 503)}}},
        "/s/{sid}/details": {"get": {
            "operationId": "get_details", "tags": ["public"],
            "summary": "Whether the citizen's details have arrived (status only; same browser only)",
            "parameters": [_path_param("sid")],
            "responses": {"200": {"description": "The status", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"status": {
                    "type": "string", "enum": ["pending", "verified", "not_verified"]}}}}}},
                          **_problems(403, 404, 503)}}},
        "/agent": {"get": {"operationId": "get_agent_console", "tags": ["public"],
                           "summary": "The agents' console",
                           "responses": {"200": {"description": "The page",
                                                 "content": {"text/html": {}}}}}},
        "/healthz": {"get": {"operationId": "get_healthz", "tags": ["ops"],
                             "responses": {"200": {"description": "Process is up"}}}},
        "/readyz": {"get": {"operationId": "get_readyz", "tags": ["ops"],
                            "responses": {"200": {"description": "Redis and XMPP up"},
                                          "503": {"description": "A dependency is down, or Redis "
                                                                 "is failing over (\"redis\": "
                                                                 "\"failing-over\")",
                                                  "headers": _RETRY_AFTER}}}},
        "/metrics": {"get": {"operationId": "get_metrics", "tags": ["ops"],
                             "summary": "Prometheus metrics (text format 0.0.4); internal only",
                             "responses": {"200": {"description": "The exposition",
                                                   "content": {"text/plain": {}}}}}},
        "/openapi.json": {"get": {"operationId": "get_openapi", "tags": ["ops"],
                                  "responses": {"200": {"description": "This document"}}}},
        "/problems/{slug}": {"get": {"operationId": "get_problem_type", "tags": ["ops"],
                                     "parameters": [_path_param("slug")],
                                     "responses": {"200": {"description": "Problem type"},
                                                   **_problems(404)}}},
    }
    if settings.demo.core_simulator:
        paths["/demo/core"] = {
            "get": {"operationId": "get_core_simulator", "tags": ["demo"],
                    "responses": {"200": {"description": "Core simulator form"}}},
            "post": {"operationId": "post_core_simulator", "tags": ["demo"],
                     "requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
                     "responses": {"303": {"description": "To the chat, as the core would"},
                                   **_problems(400)}}}
        # The core's side of an authentication during the chat (docs/protocol.md §11).
        paths["/demo/core/session_options/{purpose}"] = {"get": {
            "operationId": "get_session_options", "tags": ["demo"],
            "parameters": [_path_param("purpose")],
            "responses": {"200": {"description": "The allowed auth_methods"}, **_problems(404)}}}
        paths["/demo/core/start"] = {"post": {
            "operationId": "post_start", "tags": ["demo"],
            "requestBody": {"content": {"application/jwt": {}}},
            "responses": {"200": {"description": "The client_url of the login"},
                          **_problems(400, 415)}}}
        paths["/demo/core/login/{login}"] = {
            "get": {"operationId": "get_login", "tags": ["demo"],
                    "parameters": [_path_param("login")],
                    "responses": {"200": {"description": "The simulated login page"},
                                  **_problems(404)}},
            "post": {"operationId": "post_login", "tags": ["demo"],
                     "parameters": [_path_param("login")],
                     "requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
                     "responses": {"303": {"description": "Back to the chat (comm_url)"},
                                   **_problems(400, 404)}}}
    for item in paths.values():
        for operation in item.values():  # the size limits hold for every request
            operation["responses"].update(_problems(414, 431))
    return {
        "openapi": "3.1.0",
        "info": {"title": "ID Chat comm-plugin API", "version": __version__},
        "servers": [{"url": settings.http.external_url}],
        "paths": paths,
        "components": {"schemas": {"Problem": {
            "type": "object", "description": "RFC 9457 problem details",
            "required": ["type", "title", "status", "detail"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                           "status": {"type": "integer"}, "detail": {"type": "string"},
                           "instance": {"type": "string"}}}}},
    }


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
