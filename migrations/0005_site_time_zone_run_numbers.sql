ALTER TABLE `sites` ADD `time_zone` text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `number` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Number the runs already logged, per site and task, in the order they started.
UPDATE `task_runs` SET `number` = (SELECT count(*) FROM `task_runs` t WHERE t.`site_id` = `task_runs`.`site_id` AND t.`task` = `task_runs`.`task` AND t.`id` <= `task_runs`.`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `task_runs_number` ON `task_runs` (`site_id`,`task`,`number`);