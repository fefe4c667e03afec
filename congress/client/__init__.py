"""Programs that talk to a running server over HTTP, as a person's own computer would: the small
HTTP client with sign-in (http.py) and a trustee's (监票人) key ceremony and decryption
(trustee.py), used by `congress trustee …` and by the dress rehearsal.
"""
