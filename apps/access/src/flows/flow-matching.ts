import type { Caller, FlowTarget, MatchOperator, RequestorCondition, Resource, Timeframe, ValidAccessFlow, Weekday } from '@latchkey/contracts';

/** Compiled globs: flows are few and checked against many resources, so each glob is compiled once. */
const compiledGlobs = new Map<string, RegExp>();
const MAX_COMPILED_GLOBS = 10_000;

/** `*` any characters (also `/`), `?` one character; everything else literal, case-sensitive like PostgreSQL names. */
export function globToRegExp(glob: string): RegExp {
  let compiled = compiledGlobs.get(glob);
  if (!compiled) {
    const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.+()|[\]{}]/g, '\\$&'))).join('');
    compiled = new RegExp(`^${body}$`, 'su');
    if (compiledGlobs.size >= MAX_COMPILED_GLOBS) compiledGlobs.clear();
    compiledGlobs.set(glob, compiled);
  }
  return compiled;
}

function matchOne(match: MatchOperator, actual: string, expected: string): boolean {
  switch (match) {
    case 'is':
    case 'is_not':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'contains':
      return actual.toLowerCase().includes(expected.toLowerCase());
    case 'starts_with':
      return actual.toLowerCase().startsWith(expected.toLowerCase());
  }
}

/** A condition over several actual values (a person's groups): `is_not` holds when none matches. */
function conditionHolds(condition: RequestorCondition, actuals: string[]): boolean {
  const anyMatch = actuals.some((actual) => condition.values.some((expected) => matchOne(condition.match, actual, expected)));
  return condition.match === 'is_not' ? !anyMatch : anyMatch;
}

export function requestorMatches(flow: Pick<ValidAccessFlow, 'requestors'>, caller: Caller): boolean {
  const results = flow.requestors.conditions.map((condition) => {
    switch (condition.type) {
      case 'user':
        return conditionHolds(condition, [caller.email]);
      case 'group':
        return conditionHolds(condition, caller.groups);
      case 'attribute': {
        const value = caller.attributes[condition.attribute!];
        return conditionHolds(condition, value === undefined ? [] : [value]);
      }
    }
  });
  return flow.requestors.operator === 'AND' ? results.every(Boolean) : results.some(Boolean);
}

type ResourceFacts = Pick<Resource, 'id' | 'integrationId' | 'type' | 'path' | 'tags'>;

/** Whether a target of a flow offers `permission` on `resource`. */
export function targetCovers(target: FlowTarget, resource: ResourceFacts, permission: string): boolean {
  if (target.integrationId !== resource.integrationId || target.resourceType !== resource.type) return false;
  if (!target.permissions.includes(permission as FlowTarget['permissions'][number])) return false;
  const selector = target.resources;
  if (!selector) return true;
  const selected = selector.values.some((value) => {
    switch (selector.by) {
      case 'id':
        return value.toLowerCase() === resource.id.toLowerCase();
      case 'name':
        return globToRegExp(value).test(resource.path);
      case 'tag':
        return resource.tags[selector.key!] !== undefined && globToRegExp(value).test(resource.tags[selector.key!]);
    }
  });
  return selector.mode === 'include' ? selected : !selected;
}

const WEEKDAYS: Weekday[] = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The weekday and minute of the day of `at` in the time frame's zone. */
function localClock(at: Date, timeZone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const day = get('weekday').toUpperCase().slice(0, 3) as Weekday;
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * Whether `at` falls in the time frame. A frame whose end is before its start spans midnight: the
 * part after midnight belongs to the day it started on (FRI 22:00-02:00 covers Saturday 01:00).
 */
export function inTimeframe(timeframe: Timeframe, at: Date): boolean {
  const { day, minute } = localClock(at, timeframe.timeZone);
  const start = minutesOf(timeframe.start);
  const end = minutesOf(timeframe.end);
  if (start < end) return timeframe.days.includes(day) && minute >= start && minute < end;
  if (minute >= start) return timeframe.days.includes(day);
  const previous = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7];
  return minute < end && timeframe.days.includes(previous);
}

export const describeTimeframe = (t: Timeframe) => `${t.days.join(',')} ${t.start}-${t.end} ${t.timeZone}`;
