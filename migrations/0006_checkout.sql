ALTER TABLE `invoices` ADD `description` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `order_id` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `redirect_url` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `metadata` text;--> statement-breakpoint
ALTER TABLE `users` ADD `display_name` text;