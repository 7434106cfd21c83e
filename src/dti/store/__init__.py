"""The assessment store: SQLAlchemy tables, Alembic migrations, and the functions that read and
change assessments — each one authorised by :mod:`dti.store.access` and audited.

    db          Store.open(url): engine (SQLite WAL + foreign keys, or PostgreSQL), transactions
    migrate     upgrade / downgrade / current (Alembic, scripts shipped in the package)
    models      the tables
    accounts    users, Argon2 passwords, log-in throttling, sessions, security events
    access      authorize(): the one place that decides who may do what
    assessments answers (self-assessed, appraised, final), comments, state changes
    evidence    uploads checked by content, stored under their SHA-256
    editions    edition rows: creation, windows, lock exceptions, final values, publication writes
    review      the reviewer's queue and diff
    audit       the append-only trail

The application's work above the tables — computing and publishing results, reading workbooks,
the demo — is :mod:`dti.services`'; nothing here imports it.  Timestamps come from
:mod:`dti.clock`.
"""
