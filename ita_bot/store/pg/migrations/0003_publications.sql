-- The year pages' publication records: the executive's approval and the last main-site link check per fiscal year
-- (kind 'approval' | 'link_check', the record in data), and the frozen snapshots submitted to ITAS, whose files are
-- kept whole in the row: a snapshot is never changed or deleted, only superseded by a later number.
CREATE TABLE publications (
    office      text NOT NULL REFERENCES offices (slug),
    fiscal_year integer NOT NULL,
    kind        text NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (office, fiscal_year, kind)
);

CREATE TABLE snapshots (
    office      text NOT NULL REFERENCES offices (slug),
    fiscal_year integer NOT NULL,
    number      integer NOT NULL,
    taken_at    timestamptz NOT NULL,
    taken_by    text NOT NULL,
    sha256      text NOT NULL,
    html        bytea NOT NULL,
    pdf         bytea NOT NULL,
    PRIMARY KEY (office, fiscal_year, number)
);
