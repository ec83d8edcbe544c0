-- The year pages' publication records. ``publications``: the executive's approval and the last main-site link
-- check of each fiscal year (kind 'approval' | 'link_check'), the record in ``data`` as the TinyDB table keeps it.
-- ``snapshots``: the frozen copies of a year page given to ITAS, numbered 1, 2, … per fiscal year, the record in
-- ``data`` and both files kept whole in the row. A snapshot is never changed (the trigger refuses an UPDATE) and
-- never deleted but with its office (a restore replacing the office's records, `office remove`).
CREATE TABLE publications (
    office      text NOT NULL REFERENCES offices (slug),
    fiscal_year integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('approval', 'link_check')),
    data        jsonb NOT NULL,
    PRIMARY KEY (office, fiscal_year, kind)
);

CREATE TABLE snapshots (
    office      text NOT NULL REFERENCES offices (slug),
    fiscal_year integer NOT NULL,
    number      integer NOT NULL CHECK (number >= 1),
    data        jsonb NOT NULL,
    html        bytea NOT NULL,
    pdf         bytea NOT NULL,
    PRIMARY KEY (office, fiscal_year, number)
);

CREATE FUNCTION snapshots_never_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a snapshot is never changed (office %, fiscal year %, number %)',
        OLD.office, OLD.fiscal_year, OLD.number;
END
$$;

CREATE TRIGGER snapshots_never_change BEFORE UPDATE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION snapshots_never_change();
