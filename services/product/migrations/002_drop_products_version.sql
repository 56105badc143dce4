-- Written 0 and never read: there is no optimistic locking to keep it for.
ALTER TABLE products DROP COLUMN version;
