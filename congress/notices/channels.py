"""The channels: e-mail by SMTP (stdlib smtplib/email) and the group robots' webhooks of 企业微信,
钉钉 and 飞书 (their documented JSON, stdlib urllib). Each `send_*` returns on success and raises
`SendFailed` with words that hold no secret (never the webhook's address, key or the password).

Success is what each platform documents: 企业微信 and 钉钉 answer {"errcode": 0}, 飞书 {"code": 0}
(older robots {"StatusCode": 0}); an HTTP 200 with another code is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from congress.notices.settings import Smtp

TIMEOUT = 15.0


class SendFailed(Exception):
    """A refusal or an outage, in words fit for the staff page and the log (no secret)."""


def text_of(subject: str, body: str, link: str) -> str:
    return f"{subject}\n{body}\n{link}".strip()


# ---- e-mail --------------------------------------------------------------------------------------

def send_email(smtp: Smtp | None, to: str, subject: str, body: str, link: str, *, message_id: str,
               now: datetime) -> None:
    """One message to one address. `message_id` is the notice's own (stable across retries), so a
    mailbox that receives a resend after a crash can tell it is the same message."""
    if smtp is None:
        raise SendFailed("未配置邮件服务器（CONGRESS_SMTP_HOST）")
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message.set_content(f"{body}\n\n{link}\n" if link else f"{body}\n")
    try:
        tls = ssl.create_default_context(cafile=smtp.ca_file)  # the certificate and host name are checked
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=tls)
            if smtp.user and smtp.password:
                client.login(smtp.user, smtp.password)
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise SendFailed(f"邮件服务器拒绝：{exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"邮件服务器不可用：{exc.__class__.__name__}") from None


def message_id(notice_id: int, site_url: str) -> str:
    """The same on every attempt of one notice (and from every worker): the site's host names it."""
    host = urllib.parse.urlsplit(site_url).hostname or "localhost"
    return f"<notice-{notice_id}@{host}>"


# ---- group robots -------------------------------------------------------------------------------

def wecom_payload(subject: str, body: str, link: str) -> dict[str, object]:
    """企业微信群机器人: markdown (its subset: headings, bold, links)."""
    content = f"**{subject}**\n{body}" + (f"\n[查看详情]({link})" if link else "")
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_payload(subject: str, body: str, link: str) -> dict[str, object]:
    """钉钉群机器人: markdown with a title (what the chat list shows) and text."""
    text = f"### {subject}\n\n{body}" + (f"\n\n[查看详情]({link})" if link else "")
    return {"msgtype": "markdown", "markdown": {"title": subject, "text": text}}


def feishu_payload(subject: str, body: str, link: str) -> dict[str, object]:
    """飞书群机器人: text."""
    return {"msg_type": "text", "content": {"text": text_of(subject, body, link)}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: HMAC-SHA256 keyed by the secret over "timestamp\\nsecret", Base64 (URL-encoded by the caller)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书 签名校验: HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message, Base64."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def send_webhook(kind: str, url: str, secret: str | None, subject: str, body: str, link: str, *,
                 now: datetime) -> None:
    if kind == "wecom":
        payload = wecom_payload(subject, body, link)
    elif kind == "dingtalk":
        payload = dingtalk_payload(subject, body, link)
        if secret:
            ms = int(now.timestamp() * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ms}&sign={urllib.parse.quote_plus(dingtalk_sign(secret, ms))}"
    elif kind == "feishu":
        payload = feishu_payload(subject, body, link)
        if secret:
            seconds = int(now.timestamp())
            payload = {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **payload}
    else:
        raise SendFailed(f"未知的通知方式：{kind}")
    answer = _post_json(url, payload)
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
    if code != 0:
        words = str(answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or "")[:100]
        raise SendFailed(f"机器人拒绝：代码 {code} {words}".strip())


def _post_json(url: str, payload: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (http(s) only: check_address)
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendFailed(f"机器人地址回答 HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:  # the reason may hold the host: the class only
        raise SendFailed(f"机器人地址不可达：{exc.__class__.__name__}") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise SendFailed("机器人地址的回答不是 JSON") from None
    if not isinstance(answer, dict):
        raise SendFailed("机器人地址的回答不是 JSON 对象")
    return answer
