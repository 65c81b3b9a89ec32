import { text } from './text';

/**
 * The marker of an object that a config file manages (`latchkey apply`): the file's `managedBy`
 * name. Absent on update keeps the stored marker, so an edit in the console leaves it; null clears
 * it. `apply --prune` deletes only objects carrying its file's marker.
 */
export const ManagedBy = text({ trim: true, min: 1, max: 100 }).nullish();
