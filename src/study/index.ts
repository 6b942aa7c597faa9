/**
 * Policy studies and their reports: a scenario, every policy on one error stream and
 * workload, and the report as a table, CSV, JSON or self-contained HTML. Runs in browsers
 * too (on the calling thread; scenarios and error streams as data, not files).
 *
 * @module mfrsim/study
 */
export { DEFAULT_SCENARIO } from './default-scenario.js';
export { loadScenario, MAX_REPLICATES, parseScenario, replicateSeed, ScenarioError, studySteps, type AccessModel, type Scenario, type ScenarioInput } from './scenario.js';
export { BASELINE_POLICY, POLICIES, POLICY_NAMES, type Backing, type PolicyName } from './policies.js';
export { runStudy, type BaselineName, type ReplicateRuns, type RunOutcome, type StudyOptions, type StudyProfile, type StudyRuns } from './run.js';
export { SERIES_FIELDS, type ShardTiming, type StepSeries } from './shard.js';
export type { StreamSummary } from './error-stream.js';
export { baselineText, buildReport, type PolicyDifference, type PolicyRow, type ReplicateSummary, type StudyReport } from './report.js';
export { interval, pairedDifference, resolved, tQuantile975, type Interval } from './intervals.js';
export { studyVerdict, type Verdict, type VerdictCell, type VerdictRow } from './verdict.js';
export type { AffectedVmFigures } from './affected.js';
export { formatMetric, shownMetrics, studyMetrics, type Metric } from './metrics.js';
export { formatTable, TABLE_COLUMNS } from './table.js';
export { formatCsv } from './csv.js';
export { formatHtml } from './html.js';
export { renderSvg, studyCharts, type Chart, type ChartSpec } from './charts.js';
