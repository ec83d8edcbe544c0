-- The first schema. Every table but the service's own carries the office (its slug), so one database holds
-- any number of offices; a single-office deployment uses the office "default". Each row keeps the record the
-- domain stores as JSON in ``data`` and copies out only what the code looks rows up, orders or locks by:
-- so a backup archive, the TinyDB files and these rows hold the same records, and moving an office between
-- backends is a copy, not a translation.

-- The service: which offices exist (the hosted service adds and disables them; a single office has one row).
CREATE TABLE offices (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{3,40}$' OR slug = 'default'),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled    boolean NOT NULL DEFAULT false
);

-- Reports, a fiscal year at a time; listed by (reported_at, sent_at), ties in the order stored (``seq``), as the
-- TinyDB file lists them. ``event_id`` makes an event's report once per year, as the year's file does.
CREATE TABLE reports (
    office       text NOT NULL REFERENCES offices (slug),
    fiscal_year  integer NOT NULL,
    id           text NOT NULL,
    event_id     text,
    reported_at  timestamptz NOT NULL,
    sent_at      timestamptz NOT NULL,
    withdrawn    boolean NOT NULL DEFAULT false,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    data         jsonb NOT NULL,
    PRIMARY KEY (office, fiscal_year, id)
);
CREATE UNIQUE INDEX reports_event ON reports (office, fiscal_year, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX reports_order ON reports (office, fiscal_year, reported_at, sent_at, seq);

-- People, the role codes handed out and failed claims; numbers handed out grow and are never reused.
CREATE TABLE people (
    office   text NOT NULL REFERENCES offices (slug),
    user_id  text NOT NULL,
    handle   integer NOT NULL,
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    data     jsonb NOT NULL,
    PRIMARY KEY (office, user_id)
);
CREATE UNIQUE INDEX people_handle ON people (office, handle);

CREATE TABLE role_codes (
    office  text NOT NULL REFERENCES offices (slug),
    number  integer NOT NULL,
    hash    text NOT NULL,
    data    jsonb NOT NULL,
    PRIMARY KEY (office, number)
);
CREATE UNIQUE INDEX role_codes_hash ON role_codes (office, hash);

CREATE TABLE claim_attempts (
    office   text NOT NULL REFERENCES offices (slug),
    user_id  text NOT NULL,
    at       text NOT NULL,
    seq      bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX claim_attempts_user ON claim_attempts (office, user_id);

-- Counters that only grow (the next person's handle, the next code's number).
CREATE TABLE counters (
    office  text NOT NULL REFERENCES offices (slug),
    name    text NOT NULL,
    value   bigint NOT NULL,
    seq     bigint GENERATED ALWAYS AS IDENTITY,  -- the order counters were first used in (moved offices keep it)
    PRIMARY KEY (office, name)
);

-- The change log: append-only; newest first by the moment of the change, then the later recorded first.
CREATE TABLE audit (
    office  text NOT NULL REFERENCES offices (slug),
    id      bigint GENERATED ALWAYS AS IDENTITY,
    at      timestamptz NOT NULL,
    data    jsonb NOT NULL,
    PRIMARY KEY (office, id)
);
CREATE INDEX audit_newest ON audit (office, at DESC, id DESC);

-- Plans saved after deployment (the console's edits) and the log of every saved change. ``version`` is the
-- plan text's hash: a save names the version it started from, and one that lost the race is refused.
CREATE TABLE plans (
    office       text NOT NULL REFERENCES offices (slug),
    fiscal_year  integer NOT NULL,
    text         text NOT NULL,
    version      text NOT NULL,
    PRIMARY KEY (office, fiscal_year)
);

CREATE TABLE plan_changes (
    office       text NOT NULL REFERENCES offices (slug),
    id           integer NOT NULL,
    fiscal_year  integer NOT NULL,
    data         jsonb NOT NULL,
    PRIMARY KEY (office, id)
);
CREATE INDEX plan_changes_year ON plan_changes (office, fiscal_year, id);

-- What an office changes at run time. A setting's ``data`` is its {"key", "value"} record (a value may be null).
CREATE TABLE settings (
    office  text NOT NULL REFERENCES offices (slug),
    key     text NOT NULL,
    data    jsonb NOT NULL,
    PRIMARY KEY (office, key)
);

CREATE TABLE meetings (
    office  text NOT NULL REFERENCES offices (slug),
    cycle   text NOT NULL,
    data    jsonb NOT NULL,
    PRIMARY KEY (office, cycle)
);

CREATE TABLE memo_headers (
    office  text PRIMARY KEY REFERENCES offices (slug),
    data    jsonb NOT NULL
);

-- Notices to managers, by the key that makes posting one idempotent.
CREATE TABLE notices (
    office    text NOT NULL REFERENCES offices (slug),
    key       text NOT NULL,
    resolved  boolean NOT NULL DEFAULT false,
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    data      jsonb NOT NULL,
    PRIMARY KEY (office, key)
);
CREATE INDEX notices_unresolved ON notices (office, seq) WHERE NOT resolved;

-- Evidence files' bytes (LINE caps a file well below PostgreSQL's limits); written once, never changed.
CREATE TABLE evidence (
    office      text NOT NULL REFERENCES offices (slug),
    name        text NOT NULL,
    content     bytea NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, name)
);

-- The processes' own state: console sign-in, guided drafts, rich menus, heartbeats, secret keys.
CREATE TABLE signin_links (
    office      text NOT NULL REFERENCES offices (slug),
    token_hash  text NOT NULL,
    user_id     text NOT NULL,
    created_at  timestamptz NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (office, token_hash)
);
CREATE INDEX signin_links_user ON signin_links (office, user_id, created_at);

CREATE TABLE sessions (
    office        text NOT NULL REFERENCES offices (slug),
    session_hash  text NOT NULL,
    user_id       text NOT NULL,
    expires_at    timestamptz NOT NULL,
    data          jsonb NOT NULL,
    PRIMARY KEY (office, session_hash)
);
CREATE INDEX sessions_user ON sessions (office, user_id);

CREATE TABLE drafts (
    office   text NOT NULL REFERENCES offices (slug),
    chat_id  text NOT NULL,
    user_id  text NOT NULL,
    data     jsonb NOT NULL,
    PRIMARY KEY (office, chat_id, user_id)
);

CREATE TABLE menu_state (
    office  text PRIMARY KEY REFERENCES offices (slug),
    data    jsonb NOT NULL
);

CREATE TABLE heartbeats (
    office  text NOT NULL REFERENCES offices (slug),
    name    text NOT NULL,
    data    jsonb NOT NULL,
    PRIMARY KEY (office, name)
);

CREATE TABLE secret_keys (
    office  text NOT NULL REFERENCES offices (slug),
    name    text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (office, name)
);

-- Exactly-once pushes: one row per send key, claimed by inserting it (a second claimer inserts nothing);
-- an interrupted send is found and resumed by whichever clock locks its row first (FOR UPDATE SKIP LOCKED).
-- ``data`` NULL is a claim's placeholder inside its own transaction ("no entry yet"); it is never committed.
CREATE TABLE sent_log (
    office  text NOT NULL REFERENCES offices (slug),
    key     text NOT NULL,
    seq     bigint GENERATED ALWAYS AS IDENTITY,
    data    jsonb,
    PRIMARY KEY (office, key)
);
-- The resumes' search: only the few entries still "sending", oldest first.
CREATE INDEX sent_log_sending ON sent_log (office, seq) WHERE data ->> 'state' = 'sending';

-- The clock's slots: which ran, which are running, which wait for a retry (``data`` NULL as in sent_log).
CREATE TABLE slots (
    office  text NOT NULL REFERENCES offices (slug),
    slot    text NOT NULL,
    seq     bigint GENERATED ALWAYS AS IDENTITY,
    data    jsonb,
    PRIMARY KEY (office, slot)
);

-- The webhook's inbox: an event is acknowledged to LINE only once its row is committed; ``outcome`` is set
-- when it has been applied, and the row stays (its id taken) until pruned. ``stamp`` is LINE's event timestamp
-- (ms; NULL when the event has no integer one). ``event`` is json, not jsonb: jsonb refuses "\u0000" in text.
CREATE TABLE inbox (
    office       text NOT NULL REFERENCES offices (slug),
    event_id     text NOT NULL,
    received_at  text NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    stamp        bigint,
    event        json NOT NULL,
    outcome      text CHECK (outcome IN ('ok', 'failed', 'unreadable')),
    applied_at   timestamptz,
    PRIMARY KEY (office, event_id)
);
CREATE INDEX inbox_pending ON inbox (office, stamp) WHERE outcome IS NULL;
CREATE INDEX inbox_stored ON inbox (office, stored_at);

CREATE TABLE inbox_marks (
    office  text PRIMARY KEY REFERENCES offices (slug),
    newest  bigint NOT NULL DEFAULT 0
);
