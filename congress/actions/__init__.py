"""The writers: one plain function per user action (`check_in`, `open_vote`, `cast_ballot`,
`decide_proposal`, ...), each `verb(ctx, ...)` with a Context (congress.actions.base).

An action checks the actor's permission first (congress.domain.permissions), applies the rules of
congress.domain and congress.tally, writes rows and appends Events with `ctx.emit`, all in the
caller's one transaction. Each module declares its commands as a `COMMANDS` tuple; the application
layer assembles the table. Actions use reads (the *_json shapes), records, notices (the outbox), db,
sealed, tally and domain; they never import live, routes or the application layer.
"""
