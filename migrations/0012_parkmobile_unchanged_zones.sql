ALTER TABLE `sites` ADD `parkmobile_edits` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `zone_imports` ADD `compared_digest` text;--> statement-breakpoint
ALTER TABLE `zone_imports` ADD `compared_edits` integer;