// A study in the page: the same scenario parsing, runner, report and HTML (with its charts)
// as `mfrsim study`, on the calling thread of a Web Worker (or of the page).
import { buildReport, formatHtml, parseScenario, runStudy, type ScenarioInput, type StudyReport } from 'mfrsim/study';

/** What a finished study hands the page: the report as data and as the HTML report. */
export interface StudyOutcome {
  report: StudyReport;
  html: string;
}

/** Messages from the study worker. */
export type StudyMessage =
  | { type: 'progress'; done: number; total: number }
  | ({ type: 'done' } & StudyOutcome)
  | { type: 'error'; message: string };

export async function runPageStudy(input: ScenarioInput, onProgress: (done: number, total: number) => void): Promise<StudyOutcome> {
  const scenario = parseScenario(input, 'the scenario');
  const report = buildReport(await runStudy(scenario, { workers: 0, onProgress }));
  return { report, html: await formatHtml(report) };
}
