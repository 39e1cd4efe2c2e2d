-- sites.parkmobile_edits counts every change to a stored ParkMobile permit of the site (what the import compares, or
-- the record itself going), whoever makes it: an update or delete through the API, console or CLI, retention, the
-- import's own updates. Counted by SQLite in the write's own transaction, so no write path can forget it.
CREATE TRIGGER `permits_parkmobile_update` AFTER UPDATE OF `plate`, `plate_norm`, `plate_state`, `start_at`, `end_at`, `amount_cents`, `source_modified_at`, `deleted_at` ON `permits`
WHEN OLD.`source` = 'ParkMobile'
BEGIN
  UPDATE `sites` SET `parkmobile_edits` = `parkmobile_edits` + 1 WHERE `id` = OLD.`site_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `permits_parkmobile_delete` AFTER DELETE ON `permits`
WHEN OLD.`source` = 'ParkMobile'
BEGIN
  UPDATE `sites` SET `parkmobile_edits` = `parkmobile_edits` + 1 WHERE `id` = OLD.`site_id`;
END;
