// The event contract itself is src/events.ts (shared by every layer, as src/errors.ts); services import it from here.
export * from '../../events.ts';
