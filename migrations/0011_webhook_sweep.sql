CREATE TABLE `webhook_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`at` integer NOT NULL,
	`forget_from` integer NOT NULL,
	`held_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_outbox_held` ON `webhook_outbox` (`held_at`);--> statement-breakpoint
DROP INDEX `webhook_events_site_created`;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `forget_from` integer;--> statement-breakpoint
CREATE INDEX `webhook_events_site_forget` ON `webhook_events` (`site_id`,`forget_from`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_pending` ON `webhook_deliveries` (`created_at`) WHERE "webhook_deliveries"."state" = 'pending';--> statement-breakpoint
-- Events stored before `forget_from` existed are forgotten as they were: N days after they were made.
UPDATE `webhook_events` SET `forget_from` = `created_at` WHERE `forget_from` IS NULL;
