CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`token_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`label` text,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_site` ON `api_tokens` (`site_id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`site_id` integer NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`permit_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `lot_zones` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lot_zones_site_name` ON `lot_zones` (`site_id`,`name`);--> statement-breakpoint
CREATE TABLE `permit_events` (
	`permit_id` text NOT NULL,
	`version` integer NOT NULL,
	`action` text NOT NULL,
	`changes` text NOT NULL,
	`actor` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`permit_id`, `version`),
	FOREIGN KEY (`permit_id`) REFERENCES `permits`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `permits` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`type` text NOT NULL,
	`source` text NOT NULL,
	`plate` text NOT NULL,
	`plate_norm` text NOT NULL,
	`zone_name` text,
	`lot_zone_id` integer,
	`amount_cents` integer,
	`currency` text,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`permit_no` text,
	`ticket_number` text,
	`promo_code` text,
	`receipt` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`lot_zone_id`) REFERENCES `lot_zones`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `permits_plate_active` ON `permits` (`site_id`,`plate_norm`,`end_at`);--> statement-breakpoint
CREATE INDEX `permits_zone_active` ON `permits` (`site_id`,`lot_zone_id`,`type`,`end_at`);--> statement-breakpoint
CREATE INDEX `permits_disconnected` ON `permits` (`site_id`,`zone_name`) WHERE lot_zone_id IS NULL AND zone_name IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `permits_receipt_live` ON `permits` (`site_id`,`receipt`,`plate_norm`,`start_at`) WHERE receipt IS NOT NULL AND deleted_at IS NULL;--> statement-breakpoint
CREATE TABLE `sites` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`currencies` text DEFAULT 'CAD,USD' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sites_slug_unique` ON `sites` (`slug`);