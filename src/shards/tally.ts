// Counts a plan's finished jobs into the progress every executor reports.
import type { ShardPlan, ShardProgress } from './plan.js';

export class ShardTally<R> {
  readonly progress: ShardProgress;

  constructor(private readonly plan: ShardPlan<unknown, R>, workers: number) {
    this.progress = {
      done: 0, total: plan.jobs.length, reused: 0,
      doneWeight: 0, reusedWeight: 0, totalWeight: plan.jobs.reduce((n, j) => n + j.weight, 0),
      measured: 0, unit: plan.unit, workers,
    };
  }

  /** A job finished: in this attempt, or earlier (`reused`: its work is not this attempt's rate). */
  finish(index: number, result: R, reused: boolean): void {
    const p = this.progress;
    const weight = this.plan.jobs[index]!.weight;
    p.done++;
    p.doneWeight += weight;
    if (reused) {
      p.reused++;
      p.reusedWeight += weight;
    } else {
      p.measured += this.plan.measure(result);
    }
  }
}
