// The event types a webhook endpoint can subscribe to: the event log's own (src/domain/events.ts).

import { EVENT_TYPES, type EventType } from "../domain/events";

export { EVENT_TYPES, eventTypeOfStatus, type EventType } from "../domain/events";

export function isEventType(name: string): name is EventType {
  return (EVENT_TYPES as readonly string[]).includes(name);
}
