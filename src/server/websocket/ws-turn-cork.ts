/** Something corked until the current turn of the event loop ends. */
export interface TurnCorked {
  /** Release what was corked: write it out. */
  uncorkTurn(): void;
}

/** Everything corked in this turn, released together when it ends. */
let corked: TurnCorked[] = [];

function releaseAll(): void {
  const now = corked;
  corked = [];
  for (const item of now) item.uncorkTurn();
}

/**
 * Have `item.uncorkTurn()` called once the current JavaScript turn is over
 * (process.nextTick, after the synchronous work of this callback: a room's
 * delivery to every subscriber, or the requests of one read from a socket).
 * One tick serves every socket corked in the turn.
 */
export function uncorkWhenTurnEnds(item: TurnCorked): void {
  if (corked.push(item) === 1) process.nextTick(releaseAll);
}
