// The public surface of reports/: load results files, merge them, render and write reports.
//   const files = await loadResultsFiles(paths);
//   const model = buildReportModel(files);
//   await writeReports({ html, junit, json }, model);
export { loadResultsFiles, loadResultsFile, parseResultsFile, sha256Hex, ResultsFileError, type ResultsFile } from './load-results.js';
export { mergeResults, mergeRuns, summarize, ResultsMergeError, type MergedRun, type ResultsInput } from './merge-results.js';
export { buildReportModel, type ReportModel, type Verdict, type RunView, type InvariantRow, type FailureView, type NoteView } from './report-model.js';
export { renderHtml, findTemplatesDir, TemplatesNotFoundError, TemplateRenderError, type HtmlOptions } from './html.js';
export { renderJunit } from './junit.js';
export { renderJson } from './json.js';
export { writeReports, type ReportPaths, type WrittenReport } from './write-reports.js';
