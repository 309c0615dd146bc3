"""Post-processing of the OpenAPI document, so it states every answer an operation can give.

Some errors come from the framework rather than from a view: any caller may send a bad or expired
token (401), a password past its age or a role that grants nothing (403), an id outside scope or a
page past the end (404), too many requests or a locked account (429). Any operation that reads a
body or a query string may also answer 400, and one that reads a body 415 (a media type the parsers
do not take, or a multipart body they cannot split). Views document their own successes and their
specific errors; this hook adds the common ones, all in the ``Error`` shape of
``partyedu.core.api.exceptions``, without overriding what a view declared."""

from __future__ import annotations

from typing import Any

ERROR_REF = "#/components/schemas/Error"

COMMON_ERRORS = {
    "401": "未登录，或令牌无效、已过期",
    "403": "无权执行此操作，或密码已过期",
    "404": "对象不存在或不在调用者的管理范围内，或页码超出范围",
    "429": "请求过于频繁，或账号已锁定",
}
BAD_INPUT = ("400", "提交的数据有误（按字段列出）")
BAD_MEDIA = ("415", "请求体的媒体类型不受支持，或无法解析")

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _takes_input(operation: dict[str, Any]) -> bool:
    return "requestBody" in operation or any(p.get("in") == "query" for p in operation.get("parameters", []))


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry."""
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            errors = dict(COMMON_ERRORS)
            if _takes_input(operation):
                errors.setdefault(*BAD_INPUT)
            if "requestBody" in operation:
                errors.setdefault(*BAD_MEDIA)
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
    return result
