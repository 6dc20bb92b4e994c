CREATE TABLE `scan_holds` (
	`coin` integer NOT NULL,
	`user_id` text NOT NULL,
	`shard` text NOT NULL,
	`held_before` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`coin`, `user_id`, `shard`)
);
