-- The activity page lists the workspace's operations newest first, a page at a time: walking
-- this index backwards stops after one page instead of sorting the whole table.
CREATE INDEX operations_by_time ON operations (started_at);
