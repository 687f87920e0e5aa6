-- What went wrong with a compute, in Azure's words (its provisioning errors or instance errors),
-- so the list can say it on the row.
ALTER TABLE computes ADD COLUMN problem TEXT;
