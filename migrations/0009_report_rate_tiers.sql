ALTER TABLE `api_tokens` ADD `rate_tier` text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth_clients` ADD `rate_tier` text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE `permit_events` ADD `site_id` integer;--> statement-breakpoint
CREATE INDEX `permit_events_site_at` ON `permit_events` (`site_id`,`at`,`permit_id`,`version`);--> statement-breakpoint
-- Events written before events carried their site take it from their permit.
UPDATE `permit_events` SET `site_id` = (SELECT `site_id` FROM `permits` WHERE `permits`.`id` = `permit_events`.`permit_id`)
WHERE `site_id` IS NULL;
--> statement-breakpoint
-- Every write path names the site of the event it writes: one that forgets fails here, rather than leave the event out
-- of its site's reports (SQLite cannot add a NOT NULL column to a table that already has rows).
CREATE TRIGGER `permit_events_site` BEFORE INSERT ON `permit_events`
WHEN NEW.site_id IS NULL
BEGIN
  SELECT RAISE(ABORT, 'permit_events.site_id is required');
END;
