"""What a viewer reads, built from the tables the writers write: the snapshot of a congress for one
viewer (snapshot.py) and its sections (votes, documents, rooms, opinions, speakers, proposals), the
staff views and the proposal board (views.py, proposal_views.py), and the JSON shapes the writers
also put in their events (*_json). Reads use db, domain and tally, never actions: a read command
gets a ReadContext (context.py) and cannot emit.
"""
