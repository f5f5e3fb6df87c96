"""Chunked log streams: offsets, tails, sanitising, size caps, the background writer."""

import pytest

from studio import logs


@pytest.mark.django_db
def test_append_and_read_from_any_offset():
    logs.append("t/1", "hello\n")
    logs.append("t/1", "world\n")
    assert logs.read("t/1").text == "hello\nworld\n"
    part = logs.read("t/1", offset=3)
    assert (part.text, part.offset, part.next_offset, part.size) == ("lo\nworld\n", 3, 12, 12)
    assert logs.read("t/1", offset=12).text == ""
    assert logs.read("t/1", offset=500).offset == 12


@pytest.mark.django_db
def test_negative_offset_reads_the_tail_and_limit_pages():
    logs.append("t/2", "".join(f"line {i}\n" for i in range(1000)))
    tail = logs.read("t/2", offset=-9)
    assert tail.text == "line 999\n"
    page = logs.read("t/2", offset=0, limit=7)
    assert page.text == "line 0\n" and page.next_offset == 7


@pytest.mark.django_db
def test_nul_bytes_are_stripped_and_secrets_masked():
    logs.append("t/3", "key=s3cr3t-value\x00 done\n", secrets=["s3cr3t-value"])
    assert logs.read_all("t/3") == "key=*** done\n"


@pytest.mark.django_db
def test_large_appends_are_split_into_chunks_that_read_back_whole(monkeypatch):
    monkeypatch.setattr(logs, "MAX_CHUNK_CHARS", 10)
    logs.append("t/4", "abcdefghijklmnopqrstuvwxyz")
    from studio.models import LogChunk

    assert LogChunk.objects.filter(stream="t/4").count() == 3
    assert logs.read("t/4", offset=12, limit=5).text == "mnopq"


@pytest.mark.django_db
def test_streams_are_capped(monkeypatch):
    monkeypatch.setattr(logs, "MAX_STREAM_CHARS", 20)
    logs.append("t/5", "x" * 15)
    logs.append("t/5", "y" * 15)
    logs.append("t/5", "z" * 15)
    text = logs.read_all("t/5")
    assert text.startswith("x" * 15 + "y" * 5)
    assert "size limit reached" in text and "zzz" not in text


@pytest.mark.django_db(transaction=True)
def test_the_writer_flushes_in_the_background_and_on_close():
    import time

    with logs.LogWriter("t/6", interval=0.05) as writer:
        writer.write("first\n")
        deadline = time.monotonic() + 5
        while logs.size("t/6") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert logs.read_all("t/6") == "first\n"
        writer.write("last\n")
    assert logs.read_all("t/6") == "first\nlast\n"


def test_colour_codes_are_stripped_for_plain_log_views():
    from studio.text import strip_ansi

    assert strip_ansi("\x1b[0m\x1b[91mResolved 1 package\x1b[0m <b>") == "Resolved 1 package <b>"


@pytest.mark.django_db
def test_line_at_counts_lines_across_chunks_for_a_viewer_that_opened_at_the_tail():
    text = "".join(f"line {i}\n" for i in range(1, 60_001))  # > one chunk (256 KiB)
    logs.append("t/lines", text)
    logs.append("t/lines", "tail a\ntail b\n")
    assert logs.line_at("t/lines", 0) == 1
    assert logs.line_at("t/lines", text.index("line 50000\n")) == 50_000
    assert logs.line_at("t/lines", text.index("line 50000\n") + 3) == 50_000
    assert logs.line_at("t/lines", len(text) + len("tail a\n")) == 60_002
