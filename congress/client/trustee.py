"""A trustee's (监票人) own computer, over HTTP: take part in the key ceremony and decrypt a
secret vote's sums, with the seed kept in a local key file that never leaves this computer.

The browser's trustee page does the same steps (web/js/sealed.js); the rehearsal and the CLI use this.
Every message is computed here from the public state (congress.sealed.kit) and posted as a command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from congress.client.http import HttpFailure, SignedIn, request, sign_in
from congress.sealed.kit import decryption_message, next_message


class TrusteeHttp:
    """One trustee signed in as the delegate they are."""

    def __init__(self, base_url: str, congress_id: int, employee_id: str, code: str) -> None:
        self.base_url, self.congress_id = base_url, congress_id
        self.session: SignedIn = sign_in(base_url, {"employee_id": employee_id, "code": code,
                                                    "congress_id": congress_id})

    def command(self, op: str, **args: Any) -> Any:
        status, parsed, _ = request(self.base_url, "POST", f"/api/congresses/{self.congress_id}/commands/{op}",
                                    body=args, cookie=self.session.cookie, csrf=self.session.csrf)
        if status != 200:
            raise HttpFailure(status, parsed, op)
        return parsed["result"]

    def state(self) -> dict[str, Any]:
        ceremony = self.command("ceremony_state")["ceremony"]
        if ceremony is None:
            raise HttpFailure(404, {"error": {"code": "no_ceremony", "message": "工作人员尚未指定监票人"}}, "密钥生成")
        return ceremony

    def take_part(self, seed: bytes, *, wait: bool = True, timeout: float = 3600, poll: float = 1.0,
                  progress: Callable[[int, dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Post every round this trustee can, waiting for the others between rounds (if `wait`);
        returns the ceremony's state when it is ready or failed (or, without `wait`, when stuck)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if state["my_index"] is None:
                raise HttpFailure(403, {"error": {"code": "forbidden", "message": "您不是这次密钥生成的监票人"}},
                                  "密钥生成")
            step = next_message(state, state["my_index"], seed)
            if step is not None:
                self.command("post_trustee_message", ceremony_id=state["ceremony_id"], round=step[0], message=step[1])
                if progress:
                    progress(step[0], state)
                continue
            if state["status"] != "collecting" or not wait or time.monotonic() > deadline:
                return state
            time.sleep(poll)

    def decrypt(self, seed: bytes, vote_id: int) -> dict[str, Any]:
        """This trustee's decryption shares of a closed secret vote's sums, posted."""
        sealed = self.command("sealed_ballots", vote_id=vote_id)
        if sealed["sealed_tally"] is None:
            raise HttpFailure(409, {"error": {"code": "bad_vote_state", "message": "表决尚未截止"}}, "解密")
        state = self.command("ceremony_state", ceremony_id=sealed["sealing"]["ceremony_id"])["ceremony"]
        message = decryption_message(state, state["my_index"], seed, vote_id, sealed["sealed_tally"])
        return self.command("post_decryption", vote_id=vote_id, message=message)
