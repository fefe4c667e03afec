"""/live/ serves a live HLS folder (CONGRESS_STREAM_DIR) as a stream server would: the playlist with
program-date-time near now, never cached, growing by itself; segments as MPEG-TS; nothing else from
the folder (the encoder's log, the slate's text); and no /live/ at all when the setting is unset.
The picture is a real ffmpeg encoding in real time; the server is `congress serve` in its own process."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx

from congress.ops.server_process import ServerProcess

PDT = re.compile(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)")


def program_date_times(playlist: str) -> list[datetime]:
    return [datetime.fromisoformat(m.replace("+0000", "+00:00")) for m in PDT.findall(playlist)]


def test_the_live_folder_is_served_as_hls_with_program_date_time(stream_site, tmp_path):
    with httpx.Client(base_url=stream_site.url, timeout=10) as http:
        first = http.get(stream_site.stream_url)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert first.headers["cache-control"] == "no-cache"
        newest = program_date_times(first.text)[-1]
        # The newest segment began at most a few seconds ago by this machine's clock.
        assert abs((datetime.now(UTC) - newest).total_seconds()) < 8, first.text

        segment = [line for line in first.text.splitlines() if line.endswith(".ts")][-1]
        media = http.get(f"/live/{segment}")
        assert media.status_code == 200 and media.headers["content-type"] == "video/mp2t"
        assert media.content[:1] == b"\x47" and len(media.content) % 188 == 0  # MPEG-TS packets
        assert "max-age" in media.headers["cache-control"]

        deadline = time.monotonic() + 15
        while (later := http.get(stream_site.stream_url).text) == first.text:  # a live stream grows
            assert time.monotonic() < deadline, "the playlist did not change in 15 s"
            time.sleep(0.5)
        assert program_date_times(later)[-1] > newest

        for hidden in ("/live/.title.txt", "/live/demo.ffmpeg.log", "/live/../pyproject.toml", "/live/%2e%2e/README.md"):
            assert http.get(hidden).status_code == 404, hidden
    (stream_site.picture.folder / "notes.txt").write_text("not a stream file")
    assert httpx.get(f"{stream_site.url}/live/notes.txt").status_code == 404

    unset = ServerProcess(stream_site.database_url, tmp_path / "server-unset.log", env={"CONGRESS_STREAM_DIR": ""})
    try:
        assert httpx.get(f"{unset.url}{stream_site.stream_url}").status_code == 404
    finally:
        unset.stop()


def test_a_playlist_replaced_while_it_is_read_is_served_whole_or_not_at_all(database_url, tmp_path):
    """The encoder writes each new playlist beside the old one and renames it over: a read in between
    must give one version whole. Served as a file, the length came from before the rename and the
    bytes from after, and the response broke off (CI: "peer closed connection without sending complete
    message body (received 0 bytes, expected 264)"). Here the rename happens thousands of times a
    second, between playlists of different lengths, while the page reads on."""
    import os
    import threading

    folder = tmp_path / "live"
    folder.mkdir()
    versions = [f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:{n}\n" + f"#EXTINF:2.0,\nlive-{n}.ts\n" * (n % 4 + 1)
                for n in range(8)]
    playlist = folder / "live.m3u8"
    playlist.write_text(versions[0])
    done = threading.Event()

    def encoder() -> None:
        n = 0
        while not done.is_set():
            n += 1
            (folder / "live.m3u8.tmp").write_text(versions[n % len(versions)])
            os.replace(folder / "live.m3u8.tmp", playlist)

    server = ServerProcess(database_url, tmp_path / "server.log", env={"CONGRESS_STREAM_DIR": str(folder)})
    writer = threading.Thread(target=encoder, daemon=True)
    writer.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for _ in range(400):
                response = http.get("/live/live.m3u8")
                assert response.status_code == 200
                assert response.text in versions
                assert response.headers["cache-control"] == "no-cache"
    finally:
        done.set()
        writer.join(timeout=5)
        server.stop()
