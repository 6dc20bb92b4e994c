// Group commit: requests that arrive while the previous group is being written wait together, then
// are decided and written as one group, in arrival order, as one unit of the object's serial work.

/** One request's answer within its group: its own result, or its own error. */
export type Settled<R> = PromiseSettledResult<R>;

export interface GroupCommitOptions<T, R> {
  /** Runs one unit of work after the object's other work (its SerialQueue). */
  schedule: (work: () => Promise<void>) => Promise<unknown>;
  /** Decides and writes one group, answering each request in order; a throw fails all of them. */
  commit: (group: readonly T[]) => Promise<Settled<R>[]>;
  /** The most requests one group takes; later ones form the next group. */
  maxGroup: number;
}

interface Waiting<T, R> {
  request: T;
  resolve: (value: R) => void;
  reject: (reason: unknown) => void;
}

export class GroupCommit<T, R> {
  private waiting: Waiting<T, R>[] = [];
  /** A group is scheduled and has not started yet: new requests join it. */
  private scheduled = false;

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  submit(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.scheduleGroup();
    });
  }

  private scheduleGroup(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.options.schedule(() => this.writeGroup());
  }

  private async writeGroup(): Promise<void> {
    this.scheduled = false;
    const group = this.waiting.splice(0, this.options.maxGroup);
    if (this.waiting.length > 0) this.scheduleGroup();
    let answers: Settled<R>[];
    try {
      answers = await this.options.commit(group.map((w) => w.request));
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    group.forEach((w, i) => {
      const answer = answers[i]!;
      if (answer.status === "fulfilled") w.resolve(answer.value);
      else w.reject(answer.reason);
    });
  }
}

/** A promise's outcome as a value, so one request's failure can be kept beside the others' results. */
export function settle<R>(promise: Promise<R>): Promise<Settled<R>> {
  return promise.then(
    (value) => ({ status: "fulfilled", value }),
    (reason: unknown) => ({ status: "rejected", reason }),
  );
}
