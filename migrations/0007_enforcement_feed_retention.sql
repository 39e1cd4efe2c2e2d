CREATE TABLE `permit_changes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`lot_zone_id` integer NOT NULL,
	`permit_id` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `permit_changes_zone` ON `permit_changes` (`lot_zone_id`,`seq`,`permit_id`);--> statement-breakpoint
CREATE TABLE `zone_imports` (
	`lot_zone_id` integer PRIMARY KEY NOT NULL,
	`last_success_at` integer NOT NULL,
	FOREIGN KEY (`lot_zone_id`) REFERENCES `lot_zones`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `permits` ADD `plate_folded` text GENERATED ALWAYS AS (replace(replace(replace(replace(replace(replace(replace(replace(plate_norm, 'O', '0'), 'Q', '0'), 'I', '1'), 'L', '1'), 'B', '8'), 'S', '5'), 'Z', '2'), 'G', '6')) VIRTUAL;--> statement-breakpoint
ALTER TABLE `permits` ADD `anonymized_at` integer;--> statement-breakpoint
CREATE INDEX `permits_plate_folded` ON `permits` (`site_id`,`plate_folded`,`end_at`);--> statement-breakpoint
CREATE INDEX `permits_site_end` ON `permits` (`site_id`,`end_at`);--> statement-breakpoint
CREATE INDEX `permits_to_anonymize` ON `permits` (`site_id`,`end_at`) WHERE anonymized_at IS NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `grace_minutes` integer DEFAULT 15 NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `anonymize_after_days` integer DEFAULT 90 NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `archive_after_months` integer DEFAULT 13 NOT NULL;--> statement-breakpoint
-- The enforcement feed's change log, written by triggers so that every write path (push, update, delete, imports,
-- standard permits, zone changes, and any added later) feeds it without knowing of it. A change is logged for the
-- zone the permit is in and, when it moved, for the zone it left. Changes to a permit that ended more than two days
-- ago (before and after) are not logged: no zone's list can hold it (the grace period is at most a day).
CREATE TRIGGER `permits_feed_insert` AFTER INSERT ON `permits`
WHEN NEW.lot_zone_id IS NOT NULL AND NEW.end_at > unixepoch() - 172800
BEGIN
  INSERT INTO `permit_changes` (`lot_zone_id`, `permit_id`, `at`) VALUES (NEW.lot_zone_id, NEW.id, unixepoch());
END;
--> statement-breakpoint
CREATE TRIGGER `permits_feed_update` AFTER UPDATE OF `lot_zone_id`, `plate_norm`, `plate_state`, `start_at`, `end_at`, `deleted_at` ON `permits`
WHEN (OLD.lot_zone_id IS NOT NULL OR NEW.lot_zone_id IS NOT NULL)
  AND max(OLD.end_at, NEW.end_at) > unixepoch() - 172800
  AND (OLD.lot_zone_id IS NOT NEW.lot_zone_id OR OLD.plate_norm IS NOT NEW.plate_norm OR OLD.plate_state IS NOT NEW.plate_state
       OR OLD.start_at IS NOT NEW.start_at OR OLD.end_at IS NOT NEW.end_at OR OLD.deleted_at IS NOT NEW.deleted_at)
BEGIN
  INSERT INTO `permit_changes` (`lot_zone_id`, `permit_id`, `at`)
    SELECT OLD.lot_zone_id, NEW.id, unixepoch() WHERE OLD.lot_zone_id IS NOT NULL AND OLD.lot_zone_id IS NOT NEW.lot_zone_id;
  INSERT INTO `permit_changes` (`lot_zone_id`, `permit_id`, `at`)
    SELECT NEW.lot_zone_id, NEW.id, unixepoch() WHERE NEW.lot_zone_id IS NOT NULL;
END;
