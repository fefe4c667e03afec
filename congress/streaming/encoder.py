"""A test picture, encoded live by ffmpeg: a slate with the congress's name, a burnt-in wall clock
and a tone, as an HLS playlist with EXT-X-PROGRAM-DATE-TIME in a folder and/or an RTMP push.

It stands in for OBS in the demo and the tests. The clock is the machine's own time drawn on each
frame as it is encoded, and ffmpeg stamps each segment's program-date-time from the same clock, so a
viewer's picture time (hls.js playingDate) can be checked against what the frame shows.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from congress.ops.die_with_parent import die_with_parent

# Noto Sans CJK (Debian fonts-noto-cjk, Homebrew/macOS fonts) first: the congress's name is Chinese.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
# Any font at all still draws the clock (the name then shows as boxes: better than no picture).
OTHER_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/System/Library/Fonts/Helvetica.ttc",
)


def ffmpeg_path() -> str | None:
    """The ffmpeg on PATH, or None when the machine has none."""
    return shutil.which("ffmpeg")


def find_font(candidates: Sequence[str] = CJK_FONTS + OTHER_FONTS) -> str | None:
    """The first font file that exists, else what fontconfig matches for Chinese, else None."""
    for candidate in candidates:
        if Path(candidate).is_file():
            return candidate
    fc_match = shutil.which("fc-match")
    if fc_match:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run([fc_match, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                                   timeout=5).stdout.strip()
            if found and Path(found).is_file():
                return found
    return None


@dataclass(frozen=True, slots=True)
class PictureSpec:
    """What the test picture looks like and how it is encoded (small and cheap: 640x360, 25 fps)."""

    width: int = 640
    height: int = 360
    fps: int = 25
    segment_seconds: int = 2
    video_kbps: int = 600
    audio_kbps: int = 64
    tone_hz: int = 440
    list_size: int = 10  # segments in the live playlist (20 s of DVR window)
    background: str = "0x1d3557"


def _filter_path(path: Path | str) -> str:
    """A file path as a filtergraph option value: quoted, with the quoting's own specials escaped."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "'\\''").replace(":", "\\:") + "'"


def video_filter(spec: PictureSpec, title_file: Path | None, font: str | None) -> str | None:
    """drawtext for the name (read from a file: no escaping of the name) and the wall clock."""
    if font is None:
        return None  # no font anywhere: a plain slate still plays
    font_option = f"fontfile={_filter_path(font)}"
    parts = []
    if title_file is not None:
        parts.append(f"drawtext={font_option}:textfile={_filter_path(title_file)}:expansion=none"
                     f":fontcolor=white:fontsize={spec.height // 16}:x=(w-text_w)/2:y=h*0.30")
    # %{localtime} is drawn when each frame is made: picture time = the machine's wall clock.
    parts.append(f"drawtext={font_option}:text='%{{localtime}}':fontcolor=white:fontsize={spec.height // 9}"
                 ":x=(w-text_w)/2:y=h*0.55:box=1:boxcolor=black@0.4:boxborderw=8")
    return ",".join(parts)


def picture_argv(ffmpeg: str, spec: PictureSpec = PictureSpec(), *, hls_playlist: Path | None = None,
                      rtmp_url: str | None = None, title_file: Path | None = None, font: str | None = None,
                      seconds: float | None = None) -> list[str]:
    """ffmpeg's argv for the test picture, encoded once and written to one or both outputs.

    hls_playlist: live HLS (…/name.m3u8, segments name-N.ts beside it) with program-date-time,
    old segments deleted and no end tag when it stops (a stopped encoder looks like a stalled live
    stream, as it would in real life). rtmp_url: pushed as FLV, as OBS pushes to a stream server.
    """
    if hls_playlist is None and rtmp_url is None:
        raise ValueError("the test picture needs an output: an HLS playlist path or an RTMP URL")
    if hls_playlist is not None and hls_playlist.suffix != ".m3u8":
        raise ValueError(f"an HLS playlist ends in .m3u8, not {hls_playlist.name!r}")
    if rtmp_url is not None and not rtmp_url.startswith(("rtmp://", "rtmps://")):
        raise ValueError(f"an RTMP URL starts with rtmp://, not {rtmp_url!r}")
    gop = spec.fps * spec.segment_seconds  # a keyframe starts every segment
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
            # -re: lavfi makes frames as fast as it can; pace them at real time like a camera.
            "-re", "-f", "lavfi", "-i", f"color=c={spec.background}:s={spec.width}x{spec.height}:r={spec.fps}",
            "-re", "-f", "lavfi", "-i", f"sine=frequency={spec.tone_hz}:sample_rate=44100"]
    if seconds is not None:
        argv += ["-t", f"{seconds:g}"]
    graph = video_filter(spec, title_file, font)
    if graph is not None:
        argv += ["-vf", graph]
    argv += ["-map", "0:v", "-map", "1:a",
             "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "main",
             "-pix_fmt", "yuv420p", "-b:v", f"{spec.video_kbps}k", "-maxrate", f"{spec.video_kbps}k",
             "-bufsize", f"{spec.video_kbps * 2}k", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
             "-c:a", "aac", "-b:a", f"{spec.audio_kbps}k", "-ar", "44100", "-ac", "2"]
    hls_options = {
        "hls_time": str(spec.segment_seconds),
        "hls_list_size": str(spec.list_size),
        "hls_flags": "program_date_time+delete_segments+omit_endlist",
        # Sequence numbers from the epoch: a restarted encoder never reuses a number a player has seen.
        "hls_start_number_source": "epoch",
    }
    if hls_playlist is not None and rtmp_url is None:
        segments = hls_playlist.with_name(f"{hls_playlist.stem}-%d.ts")
        for key, value in hls_options.items():
            argv += [f"-{key}", value]
        return argv + ["-hls_segment_filename", str(segments), "-f", "hls", str(hls_playlist)]
    if rtmp_url is not None and hls_playlist is None:
        return argv + ["-f", "flv", rtmp_url]
    # Both: the tee muxer writes the one encoding to both outputs (half the CPU of encoding twice).
    assert hls_playlist is not None and rtmp_url is not None
    segments = hls_playlist.with_name(f"{hls_playlist.stem}-%d.ts")
    hls = ":".join(["f=hls", *(f"{k}={v}" for k, v in hls_options.items()),
                    f"hls_segment_filename={_tee_escape(str(segments))}"])
    return argv + ["-flags", "+global_header", "-f", "tee",
                   f"[{hls}]{_tee_escape(str(hls_playlist))}|[f=flv:onfail=ignore]{rtmp_url}"]


def _tee_escape(value: str) -> str:
    for special in ("\\", ":", "|", "[", "]", "'"):
        value = value.replace(special, "\\" + special)
    return value


class TestPicture:
    """A running ffmpeg test picture. start() returns at once; wait_for_playlist() until it plays."""

    __test__ = False  # not a pytest test class despite its name

    def __init__(self, folder: Path, *, title: str, name: str = "demo", rtmp_url: str | None = None,
                 write_hls: bool = True, spec: PictureSpec = PictureSpec(), log_path: Path | None = None,
                 ffmpeg: str | None = None, font: str | None = None) -> None:
        found = ffmpeg or ffmpeg_path()
        if found is None:
            raise FileNotFoundError("ffmpeg is missing: apt-get install ffmpeg (or brew install ffmpeg)")
        self.ffmpeg = found
        self.folder = folder
        self.title = title
        self.playlist = folder / f"{name}.m3u8" if write_hls else None
        self.rtmp_url = rtmp_url
        self.spec = spec
        self.log_path = log_path or folder / f"{name}.ffmpeg.log"
        self.font = font if font is not None else find_font()
        self.process: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        return picture_argv(self.ffmpeg, self.spec, hls_playlist=self.playlist, rtmp_url=self.rtmp_url,
                                 title_file=self.folder / ".title.txt", font=self.font)

    def start(self) -> TestPicture:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".title.txt").write_text(self.title, encoding="utf-8")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=die_with_parent if sys.platform == "linux" else None)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def wait_for_playlist(self, timeout: float = 30) -> Path:
        """Until the playlist lists a segment; raises with ffmpeg's log if it dies or takes too long."""
        if self.playlist is None:
            raise ValueError("this test picture writes no HLS playlist")
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                if "#EXTINF" in self.playlist.read_text(errors="replace"):
                    return self.playlist
            if not self.running:
                raise RuntimeError(f"ffmpeg stopped before writing {self.playlist}: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no segment in {self.playlist} after {timeout:g} s: {self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGINT (ffmpeg finishes its current segment), then SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> TestPicture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
