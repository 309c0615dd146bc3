"""The duration of audio and video is read from the file (mutagen): it replaces a typed one,
fills in a missing one, and only when the file cannot be read does the typed duration count."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from partyedu.learning.media import grossly_different, media_duration
from partyedu.learning.models import OnlineResource
from partyedu.learning.services import resource_create, resource_update
from partyedu.testsupport.factories import Tree, make_user

from .media_files import mp3_bytes, mp4_bytes, upload, wav_bytes

WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


def named(content: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


# --- reading the file -----------------------------------------------------------------------------


def test_reads_the_length_of_a_wav() -> None:
    assert media_duration(named(wav_bytes(2.5), "a.wav")) == pytest.approx(2.5)


def test_reads_the_length_of_an_mp3() -> None:
    assert media_duration(named(mp3_bytes(3), "a.mp3")) == pytest.approx(3, abs=0.1)


def test_reads_the_length_of_an_mp4() -> None:
    assert media_duration(named(mp4_bytes(75.5), "a.mp4")) == pytest.approx(75.5)


def test_leaves_the_file_at_its_start() -> None:
    file = named(wav_bytes(1), "a.wav")
    media_duration(file)
    assert file.read(4) == b"RIFF"


def test_a_format_mutagen_does_not_know_has_no_length() -> None:
    assert media_duration(named(WEBM, "a.webm")) is None


def test_a_damaged_file_has_no_length() -> None:
    assert media_duration(named(b"ID3\x04\x00" + b"\x00" * 64, "a.mp3")) is None


def test_no_file_has_no_length() -> None:
    assert media_duration(None) is None


def test_minutes_rounded_by_hand_are_not_a_gross_difference() -> None:
    assert not grossly_different(600, 583)


def test_a_wrong_duration_is_a_gross_difference() -> None:
    assert grossly_different(600, 75)


# --- the service ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_files_length_replaces_a_typed_duration(tree: Tree) -> None:
    resource = resource_create(
        actor=None,
        organization=tree.branch_a,
        title="三秒音频",
        kind="audio",
        duration_seconds=600,
        file=upload("a.mp3", mp3_bytes(3)),
    )
    assert resource.duration_seconds == 3


@pytest.mark.django_db
def test_the_files_length_fills_in_a_missing_duration(tree: Tree) -> None:
    resource = resource_create(
        actor=None,
        organization=tree.branch_a,
        title="短片",
        kind="video",
        file=upload("a.mp4", mp4_bytes(75.4)),
    )
    assert resource.duration_seconds == 75


@pytest.mark.django_db
def test_an_unreadable_file_keeps_the_typed_duration(tree: Tree) -> None:
    resource = resource_create(
        actor=None,
        organization=tree.branch_a,
        title="WebM视频",
        kind="video",
        duration_seconds=600,
        file=upload("a.webm", WEBM),
    )
    assert resource.duration_seconds == 600


@pytest.mark.django_db
def test_an_unreadable_file_needs_a_typed_duration(tree: Tree) -> None:
    with pytest.raises(ValidationError) as exc:
        resource_create(
            actor=None,
            organization=tree.branch_a,
            title="WebM视频",
            kind="video",
            file=upload("a.webm", WEBM),
        )
    assert exc.value.message_dict == {"duration_seconds": ["无法从文件中读取播放时长，请填写时长"]}


@pytest.mark.django_db
def test_courseware_keeps_its_typed_reading_time(tree: Tree) -> None:
    resource = resource_create(
        actor=None,
        organization=tree.branch_a,
        title="课件",
        kind="courseware",
        duration_seconds=900,
        file=upload("a.pdf", PDF),
    )
    assert resource.duration_seconds == 900


@pytest.mark.django_db
def test_an_update_keeps_the_files_length(tree: Tree) -> None:
    resource = resource_create(
        actor=None, organization=tree.branch_a, title="音频", kind="audio", file=upload("a.mp3", mp3_bytes(3))
    )
    resource = resource_update(actor=None, resource=resource, data={"duration_seconds": 3600})
    assert resource.duration_seconds == 3


@pytest.mark.django_db
def test_an_update_of_an_unreadable_file_takes_the_typed_duration(tree: Tree) -> None:
    resource = resource_create(
        actor=None,
        organization=tree.branch_a,
        title="WebM视频",
        kind="video",
        duration_seconds=600,
        file=upload("a.webm", WEBM),
    )
    resource = resource_update(actor=None, resource=resource, data={"duration_seconds": 1200})
    assert resource.duration_seconds == 1200


# --- the publishing page --------------------------------------------------------------------------


def publish_form(**data: Any) -> dict[str, Any]:
    values = {"kind": "audio", "title": "音频党课", "credit_hours": "1"}
    values.update(data)
    return values


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.mark.django_db
def test_page_accepts_audio_without_a_duration_and_says_it_was_read(
    client: Any, tree: Tree, admin: Any
) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("learning:resource_create"),
        publish_form(organization=tree.branch_a.pk, file=upload("a.mp3", mp3_bytes(3))),
    )
    assert response.status_code == 302
    assert OnlineResource.objects.get().duration_seconds == 3
    assert "已从文件读取播放时长：3秒" in messages_of(response)


@pytest.mark.django_db
def test_page_warns_when_the_typed_duration_was_wrong(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("learning:resource_create"),
        publish_form(
            organization=tree.branch_a.pk,
            kind="video",
            file=upload("a.mp4", mp4_bytes(75)),
            duration_minutes="10",
        ),
    )
    assert OnlineResource.objects.get().duration_seconds == 75
    assert "填写的时长（10分0秒）与文件的实际播放时长（1分15秒）不符，已按实际时长记录" in messages_of(
        response
    )


@pytest.mark.django_db
def test_page_asks_for_the_duration_of_a_file_it_cannot_read(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("learning:resource_create"),
        publish_form(organization=tree.branch_a.pk, kind="video", file=upload("a.webm", WEBM)),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["duration_minutes"] == ["无法从文件中读取播放时长，请填写时长"]
    assert not OnlineResource.objects.exists()


@pytest.mark.django_db
def test_page_asks_for_the_reading_time_of_an_article(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("learning:resource_create"),
        publish_form(organization=tree.branch_a.pk, kind="article", body="正文"),
    )
    assert response.context["form"].errors["duration_minutes"] == ["请填写需要的阅读时间（分钟）"]


@pytest.mark.django_db
def test_typed_minutes_of_an_unreadable_file_are_kept(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    client.post(
        reverse("learning:resource_create"),
        publish_form(
            organization=tree.branch_a.pk, kind="video", file=upload("a.webm", WEBM), duration_minutes="12.5"
        ),
    )
    assert OnlineResource.objects.get().duration_seconds == 750
    assert OnlineResource.objects.get().credit_hours == Decimal("1")
