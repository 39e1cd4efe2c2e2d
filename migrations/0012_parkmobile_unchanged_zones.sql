ALTER TABLE `sites` ADD `parkmobile_edits` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `zone_imports` ADD `compared_digest` text;--> statement-breakpoint
ALTER TABLE `zone_imports` ADD `compared_edits` integer;--> statement-breakpoint
-- Sessions and ParkMobile permits name a zone by its number; those left disconnected when their zone was removed and
-- added again (or numbered later) join the zone that has that number now, as adding or changing a zone now does.
UPDATE `permits` SET `lot_zone_id` = (SELECT z.`id` FROM `lot_zones` z WHERE z.`site_id` = `permits`.`site_id` AND z.`number` = `permits`.`zone_name`)
WHERE `lot_zone_id` IS NULL AND `zone_name` IS NOT NULL AND (`owner` IS NOT NULL OR `source` = 'ParkMobile')
  AND EXISTS (SELECT 1 FROM `lot_zones` z WHERE z.`site_id` = `permits`.`site_id` AND z.`number` = `permits`.`zone_name`);
