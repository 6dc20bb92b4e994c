ALTER TABLE `chain_state` ADD `checked_at` integer;--> statement-breakpoint
ALTER TABLE `chain_state` ADD `network` text;--> statement-breakpoint
ALTER TABLE `chain_state` ADD `expected_network` text;