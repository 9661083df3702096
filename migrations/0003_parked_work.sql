CREATE TABLE `parked_index` (
	`id` text PRIMARY KEY NOT NULL,
	`noted_seq` integer NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_id` text NOT NULL,
	`work` text NOT NULL,
	`name` text NOT NULL,
	`reason` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error` text NOT NULL,
	`parked_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `parked_index_noted` ON `parked_index` (`noted_seq`);--> statement-breakpoint
ALTER TABLE `outbox` ADD `parked_at` integer;