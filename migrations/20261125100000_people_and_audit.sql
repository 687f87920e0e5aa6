-- People who signed in, the roles an admin set for them, and the audit log.

CREATE TABLE users (
    object_id    TEXT NOT NULL,              -- Entra `oid`
    tenant_id    TEXT NOT NULL,              -- Entra `tid`
    name         TEXT NOT NULL,
    email        TEXT NOT NULL,              -- `preferred_username`: shown, never used to decide
    token_roles  TEXT NOT NULL DEFAULT '[]', -- the app roles of the last id_token (JSON array)
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    PRIMARY KEY (object_id, tenant_id)
);
CREATE INDEX users_by_name ON users (name COLLATE NOCASE);

CREATE TABLE role_overrides (
    object_id  TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    role       TEXT NOT NULL,               -- reader | member | contributor | admin
    set_by     TEXT NOT NULL,
    set_at     TEXT NOT NULL,
    PRIMARY KEY (object_id, tenant_id)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,               -- object id (or "system")
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,               -- e.g. sign-in, refresh, start, set-role
    target      TEXT NOT NULL DEFAULT '',    -- compute name, person, …
    outcome     TEXT NOT NULL,               -- succeeded | failed | refused
    detail      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT ''     -- client address
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE INDEX audit_by_actor ON audit_log (actor_id, at);
CREATE INDEX audit_by_target ON audit_log (target, at);

-- Owner filters of the compute list read these columns.
CREATE INDEX computes_by_owner ON computes (owner_object_id);
