-- The hosted service's registry: each office's record (name, sealed LINE credentials, onboarding link's hash,
-- state) as the TinyDB registry keeps it, in ``data``. A single-office deployment's "default" row keeps '{}'.
ALTER TABLE offices ADD COLUMN data jsonb NOT NULL DEFAULT '{}';
-- The hosted service lists the offices it serves: the single office's own row is not one of them.
ALTER TABLE offices ADD COLUMN hosted boolean NOT NULL DEFAULT false;
