CREATE TABLE `chain_state` (
	`coin` integer PRIMARY KEY NOT NULL,
	`tip_height` integer,
	`cursor_height` integer,
	`scanned_through` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`status` integer NOT NULL,
	`snapshot` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_user` ON `events` (`user_id`,`id`);--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`coin` integer NOT NULL,
	`key_set_id` integer NOT NULL,
	`address_index` integer NOT NULL,
	`address` text NOT NULL,
	`match_key` text NOT NULL,
	`required` text NOT NULL,
	`actual` text NOT NULL,
	`confirmations_required` integer NOT NULL,
	`status` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`confirmed_at` integer,
	`tx_id` text,
	`monitor_until` integer,
	`closed_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`key_set_id`) REFERENCES `key_sets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_key_set_index` ON `invoices` (`key_set_id`,`address_index`);--> statement-breakpoint
CREATE INDEX `invoices_coin_closed` ON `invoices` (`coin`,`closed_at`);--> statement-breakpoint
CREATE INDEX `invoices_user_closed` ON `invoices` (`user_id`,`closed_at`);--> statement-breakpoint
CREATE TABLE `key_sets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`coin` integer NOT NULL,
	`fingerprint` text NOT NULL,
	`public_keys` text NOT NULL,
	`sealed_secret` text,
	`next_index` integer NOT NULL,
	`active` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `key_sets_coin_fingerprint` ON `key_sets` (`coin`,`fingerprint`);--> statement-breakpoint
CREATE INDEX `key_sets_user_coin` ON `key_sets` (`user_id`,`coin`,`active`);--> statement-breakpoint
CREATE TABLE `payments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`invoice_id` text NOT NULL,
	`coin` integer NOT NULL,
	`tx_hash` text NOT NULL,
	`output_index` integer NOT NULL,
	`output_key` text NOT NULL,
	`amount` text NOT NULL,
	`seen_at` integer NOT NULL,
	`height` integer,
	`gone` integer NOT NULL,
	`in_time` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payments_coin_output` ON `payments` (`coin`,`tx_hash`,`output_index`);--> statement-breakpoint
CREATE UNIQUE INDEX `payments_coin_output_key` ON `payments` (`coin`,`output_key`);--> statement-breakpoint
CREATE INDEX `payments_invoice` ON `payments` (`invoice_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL
);
