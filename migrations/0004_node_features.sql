ALTER TABLE `chain_state` ADD `features` text;--> statement-breakpoint
ALTER TABLE `chain_state` ADD `finalized_height` integer;