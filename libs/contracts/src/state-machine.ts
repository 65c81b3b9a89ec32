/** A move the machine's table does not have: a bug in the code that asked for it, never a person's input. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`The ${machine} state machine has no move from ${from} to ${to}.`);
    this.name = 'IllegalTransitionError';
  }
}

export interface StateMachine<S extends string> {
  /** What moves through it, for error messages ("access request", "grant"). */
  readonly name: string;
  /** The states a new row starts in. */
  readonly initial: readonly S[];
  /** Every legal move: each state and the states it may move to. A change of other fields is no move. */
  readonly transitions: Readonly<Record<S, readonly S[]>>;
  canTransition(from: S, to: S): boolean;
  /** `to`, when the table has the move from `from`; an IllegalTransitionError otherwise. */
  transition(from: S, to: S): S;
  /** The states that may move to `to`: the guard of a conditional UPDATE that moves a row there. */
  predecessorsOf(to: S): S[];
}

/** One transition table and the functions every change of status goes through. */
export function stateMachine<S extends string>(name: string, table: { initial: readonly S[]; transitions: Record<S, readonly S[]> }): StateMachine<S> {
  const { initial, transitions } = table;
  const canTransition = (from: S, to: S) => transitions[from].includes(to);
  return {
    name,
    initial,
    transitions,
    canTransition,
    transition(from, to) {
      if (!canTransition(from, to)) throw new IllegalTransitionError(name, from, to);
      return to;
    },
    predecessorsOf: (to) => (Object.keys(transitions) as S[]).filter((from) => canTransition(from, to)),
  };
}
