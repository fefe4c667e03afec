"""`congress demo`: the story's congress (story.py: 295 voting delegates in 7 groups, an agenda, a
vote, trustees and a live test picture when ffmpeg is there), its proposals in every state
(proposals.py), and the demo in a process of its own for tests and benchmarks (process.py).
"""
