"""A broadcast frame built once must be exactly the frame the websockets library would send."""

import pytest
from websockets.frames import Frame, Opcode

from congress.live.frames import text_frame


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_text_frame_matches_websockets_for_every_length_encoding(length: int) -> None:
    data = ("实到 197 人" * (length // 5 + 1))[:length]
    assert text_frame(data) == Frame(Opcode.TEXT, data.encode()).serialize(mask=False)
