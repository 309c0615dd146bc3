import pytest

from partyedu.core.json_depth import MAX_JSON_DEPTH, json_too_deep


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.mark.parametrize("as_bytes", [False, True])
def test_depth_at_the_limit_passes_and_one_more_is_refused(as_bytes):
    at_limit: str | bytes
    beyond: str | bytes
    at_limit, beyond = nested(MAX_JSON_DEPTH), nested(MAX_JSON_DEPTH + 1)
    if as_bytes:
        at_limit, beyond = at_limit.encode(), beyond.encode()
    assert not json_too_deep(at_limit)
    assert json_too_deep(beyond)


def test_objects_and_arrays_count_alike():
    body = '{"a": ' * 20 + "[" * 20 + "1" + "]" * 20 + "}" * 20
    assert json_too_deep(body)
    assert not json_too_deep(body, limit=40)


def test_wide_documents_are_not_deep():
    assert not json_too_deep("[" + ",".join(["[1, {}]"] * 5000) + "]")


def test_brackets_inside_strings_do_not_count():
    text = '{"title": "' + "[" * 500 + '", "note": "a \\" [[[[ quoted"}'
    assert not json_too_deep(text)
    assert not json_too_deep(text.encode())


def test_unclosed_brackets_count_as_depth():
    # json.loads recurses before it notices the body never closes.
    assert json_too_deep("[" * 2000)
