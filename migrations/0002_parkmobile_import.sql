CREATE TABLE `parkmobile_settings` (
	`site_id` integer PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`username` text,
	`password` text,
	`api_key` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `task_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`task` text NOT NULL,
	`trigger` text NOT NULL,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL,
	`finished_at` integer,
	`outcome` text NOT NULL,
	`message` text,
	`counts` text NOT NULL,
	`rejections` text NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `task_runs_site_task` ON `task_runs` (`site_id`,`task`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `task_runs_one_running` ON `task_runs` (`site_id`,`task`) WHERE finished_at IS NULL;--> statement-breakpoint
CREATE TABLE `tasks` (
	`site_id` integer NOT NULL,
	`task` text NOT NULL,
	`enabled` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `task`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `permits` ADD `external_id` text;--> statement-breakpoint
ALTER TABLE `permits` ADD `source_modified_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `permits_external` ON `permits` (`site_id`,`source`,`external_id`) WHERE external_id IS NOT NULL;