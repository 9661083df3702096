CREATE TABLE `actor_meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `client_actions` (
	`id` text PRIMARY KEY NOT NULL,
	`result` text NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`v` integer NOT NULL,
	`ts` integer NOT NULL,
	`data` text NOT NULL,
	`meta` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_id_unique` ON `events` (`id`);--> statement-breakpoint
CREATE INDEX `events_type_seq` ON `events` (`type`,`seq`);--> statement-breakpoint
CREATE TABLE `snapshot_parts` (
	`version` integer NOT NULL,
	`part` integer NOT NULL,
	`chunk` blob NOT NULL,
	PRIMARY KEY(`version`, `part`)
);
--> statement-breakpoint
CREATE TABLE `snapshots` (
	`version` integer PRIMARY KEY NOT NULL,
	`reducer_version` text NOT NULL,
	`parts` integer NOT NULL,
	`bytes` integer NOT NULL,
	`checksum` text NOT NULL
);
