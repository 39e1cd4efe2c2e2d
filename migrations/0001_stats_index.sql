DROP INDEX `permits_zone_active`;--> statement-breakpoint
CREATE INDEX `permits_zone_live` ON `permits` (`site_id`,`lot_zone_id`,`end_at`,`start_at`,`type`,`deleted_at`) WHERE deleted_at IS NULL;