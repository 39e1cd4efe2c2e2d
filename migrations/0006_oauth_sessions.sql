CREATE TABLE `oauth_clients` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`label` text NOT NULL,
	`scopes` text NOT NULL,
	`secret_hash` text NOT NULL,
	`secret_prefix` text NOT NULL,
	`generation` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_clients_secret_hash_unique` ON `oauth_clients` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `oauth_clients_site` ON `oauth_clients` (`site_id`);--> statement-breakpoint
CREATE TABLE `oauth_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`site_id` integer NOT NULL,
	`scopes` text NOT NULL,
	`generation` integer NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`client_id`) REFERENCES `oauth_clients`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `oauth_tokens_client` ON `oauth_tokens` (`client_id`,`expires_at`);--> statement-breakpoint
ALTER TABLE `lot_zones` ADD `number` text;--> statement-breakpoint
ALTER TABLE `lot_zones` ADD `rate_cents` integer;--> statement-breakpoint
ALTER TABLE `lot_zones` ADD `rate_currency` text;--> statement-breakpoint
ALTER TABLE `lot_zones` ADD `max_minutes` integer;--> statement-breakpoint
ALTER TABLE `lot_zones` ADD `time_zone` text;--> statement-breakpoint
ALTER TABLE `lot_zones` ADD `capacity` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `lot_zones_site_number` ON `lot_zones` (`site_id`,`number`) WHERE number IS NOT NULL;--> statement-breakpoint
ALTER TABLE `permits` ADD `plate_state` text;--> statement-breakpoint
ALTER TABLE `permits` ADD `space_number` text;--> statement-breakpoint
ALTER TABLE `permits` ADD `owner` text;--> statement-breakpoint
ALTER TABLE `permits` ADD `receipt_email` text;--> statement-breakpoint
ALTER TABLE `permits` ADD `stopped_at` integer;--> statement-breakpoint
CREATE INDEX `permits_owner` ON `permits` (`site_id`,`owner`,`start_at`,`id`) WHERE owner IS NOT NULL;