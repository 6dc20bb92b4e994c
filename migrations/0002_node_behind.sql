ALTER TABLE `chain_state` ADD `best_tip_height` integer;--> statement-breakpoint
ALTER TABLE `chain_state` ADD `node_behind` text;