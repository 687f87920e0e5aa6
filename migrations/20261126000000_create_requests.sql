-- One row per create form submitted: the form's token is claimed before Azure is asked, so a
-- double click or a resubmitted page creates one compute, never two.

CREATE TABLE create_requests (
    form_token    TEXT PRIMARY KEY NOT NULL,  -- random, issued with the form
    requested_by  TEXT NOT NULL,              -- object id of the person
    compute_name  TEXT NOT NULL,
    operation_id  TEXT,                       -- set once Azure accepted the create
    claimed_at    TEXT NOT NULL
);
CREATE INDEX create_requests_by_age ON create_requests (claimed_at);
